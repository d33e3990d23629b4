"""Staff login: password, then a TOTP code (or a one-time recovery code). A staff
account without an authenticator is walked through enrolling one first."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonent.accounts import throttle
from abonent.accounts.middleware import mark_session_start
from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.errors import Throttled

RECOVERY_CODES = 10
PENDING_CODES = "abonent_staff_recovery_codes"


class PasswordForm(forms.Form):
    username = forms.CharField(label=_("Login"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the authenticator app or a recovery code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _target(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/staff/contracts/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/staff/contracts/"


def _staff(request: HttpRequest) -> Any:
    user: Any = request.user
    return user if user.is_authenticated and getattr(user, "kind", None) == "staff" else None


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request, "admin")
        # Throttled like subscriber logins, under a key that cannot be a contract number.
        key = (
            "s:"
            + hashlib.sha256(form.cleaned_data["username"].strip().lower().encode()).hexdigest()[
                :18
            ]
        )
        try:
            throttle.check(key, actor.ip)
        except Throttled as exc:
            form.add_error(None, str(exc.message))
            return render(request, "staff/login.html", {"form": form, "next": _target(request)})
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is None or getattr(user, "kind", None) != "staff":
            throttle.record_failure(key, actor)
            form.add_error(None, _("The login or password is incorrect."))
        else:
            throttle.record_success(key)
            login(request, user, backend="abonent.accounts.backends.StaffBackend")
            mark_session_start(request)
            audit.record(Actor.from_request(request, "admin"), "staff.password_ok", user)
            step = "staff:verify" if user_has_device(user) else "staff:setup"
            return redirect(f"{_url(step)}?next={_target(request)}")
    return render(request, "staff/login.html", {"form": form, "next": _target(request)})


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


@never_cache
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if user is None:
        return redirect("staff:login")
    if not user_has_device(user):
        return redirect("staff:setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, "".join(form.cleaned_data["token"].split()))
        if device is None:
            form.add_error(
                "token", _("The code is not valid. Wait for the next one and try again.")
            )
            audit.record(Actor.from_request(request, "admin"), "staff.2fa_failed", user)
        else:
            otp_login(request, device)
            request.session.cycle_key()  # a new session id with the new privilege
            audit.record(
                Actor.from_request(request, "admin"),
                "staff.2fa_ok",
                user,
                after={"device": "recovery" if isinstance(device, StaticDevice) else "totp"},
            )
            return redirect(_target(request))
    return render(request, "staff/verify.html", {"form": form, "next": _target(request)})


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@never_cache
@require_http_methods(["GET", "POST"])
def setup_view(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if user is None:
        return redirect("staff:login")
    if user_has_device(user):
        return redirect("staff:verify")
    device = TOTPDevice.objects.filter(
        user=user, confirmed=False
    ).first() or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token("".join(form.cleaned_data["token"].split())):
            device.confirmed = True
            device.save()
            static, _created = StaticDevice.objects.get_or_create(user=user, name="recovery codes")
            static.token_set.all().delete()
            codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
            for code in codes:
                static.token_set.create(token=code)
            otp_login(request, device)
            request.session.cycle_key()  # a new session id with the new privilege
            audit.record(Actor.from_request(request, "admin"), "staff.2fa_enrolled", user)
            request.session[PENDING_CODES] = codes
            return redirect(f"{_url('staff:recovery_codes')}?next={_target(request)}")
        form.add_error(
            "token", _("The code does not match. Check the time on the phone and try again.")
        )
    b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "staff/setup.html",
        {
            "form": form,
            "qr": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - generated SVG, no user input
            "secret": " ".join(b32[i : i + 4] for i in range(0, len(b32), 4)),
            "next": _target(request),
        },
    )


@never_cache
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """Shown once, right after enrolment."""
    codes = request.session.pop(PENDING_CODES, None)
    if not codes or _staff(request) is None:
        return redirect("staff:login")
    return render(request, "staff/recovery_codes.html", {"codes": codes, "next": _target(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("staff:login")
