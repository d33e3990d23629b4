"""Profile and security: contacts, sessions and devices, second factor, opt-out."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from abonent.accounts import devices, second_factor
from abonent.accounts import services as accounts
from abonent.core import phones
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.notifications import preferences as notification_preferences
from abonent.subscribers import services as subscribers
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required
from ..forms import CodeForm
from .util import apply_domain_error

PHONE_CHANGE = "abonent_phone_change"


class EmailForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("New phone"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


@subscriber_required
def profile(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    return render(
        request,
        "cabinet/profile.html",
        {
            "contract": contract,
            "phone": phones.display(contract.subscriber.phone),
            "email_form": EmailForm(initial={"email": contract.subscriber.email}),
            "credential": getattr(contract, "credential", None),
            "notify_form": NotificationsForm(initial=_notify_initial(me(request))),
            "section": "profile",
        },
    )


CHANNEL_NAMES = {"sms": _("SMS"), "email": _("e-mail"), "push": _("push on this device")}


class NotificationsForm(forms.Form):
    """A checkbox per event and channel, named "<event>__<channel>"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for event in notification_preferences.EVENTS:
            for channel in notification_preferences.CHANNELS:
                self.fields[f"{event}__{channel}"] = forms.BooleanField(
                    label=f"{event.label}: {CHANNEL_NAMES[channel]}", required=False
                )


def _notify_initial(user: Any) -> dict[str, bool]:
    return {
        key.replace(":", "__"): on for key, on in notification_preferences.current(user).items()
    }


@subscriber_required
@require_POST
def notifications_view(request: HttpRequest) -> HttpResponse:
    form = NotificationsForm(request.POST)
    form.is_valid()  # checkboxes: anything missing is "off"
    choices = {name.replace("__", ":"): bool(value) for name, value in form.cleaned_data.items()}
    notification_preferences.save(me(request), choices)
    messages.success(request, gettext("Saved."))
    return redirect("cabinet:profile")


@subscriber_required
@require_POST
def email_view(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            subscribers.change_email(
                me(request), form.cleaned_data["email"], Actor.from_request(request)
            )
        except DomainError as exc:
            for field_errors in exc.fields.values():
                for error in field_errors:
                    messages.error(request, str(error))
        else:
            messages.success(request, gettext("The e-mail has been saved."))
    else:
        for form_errors in form.errors.values():
            for message in form_errors:
                messages.error(request, str(message))
    return redirect("cabinet:profile")


@subscriber_required
@require_http_methods(["GET", "POST"])
def phone_view(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PHONE_CHANGE)
    phone_form = PhoneForm(request.POST if "phone" in request.POST else None)
    code_form = CodeForm(request.POST if "code" in request.POST else None)
    actor = Actor.from_request(request)
    if request.method == "POST" and "phone" in request.POST and phone_form.is_valid():
        try:
            issued = subscribers.start_phone_change(
                me(request), phone_form.cleaned_data["phone"], actor
            )
        except DomainError as exc:
            apply_domain_error(phone_form, exc)
        else:
            request.session[PHONE_CHANGE] = {
                "request_id": issued.request_id,
                "phone": phone_form.cleaned_data["phone"],
            }
            return redirect("cabinet:profile_phone")
    if request.method == "POST" and "code" in request.POST and pending and code_form.is_valid():
        try:
            subscribers.confirm_phone_change(
                me(request), pending["request_id"], code_form.cleaned_data["code"], actor
            )
        except DomainError as exc:
            apply_domain_error(code_form, exc)
        else:
            del request.session[PHONE_CHANGE]
            messages.success(request, gettext("The new phone number is confirmed."))
            return redirect("cabinet:profile")
    return render(
        request,
        "cabinet/profile_phone.html",
        {
            "phone_form": phone_form,
            "code_form": code_form,
            "pending": pending,
            "section": "profile",
        },
    )


@subscriber_required
@require_http_methods(["GET", "POST"])
def sessions_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    actor = Actor.from_request(request)
    if request.method == "POST":
        if request.POST.get("all") == "1":
            devices.end_all(user, keep_session_key=request.session.session_key)
            messages.success(request, gettext("All other sessions have ended."))
        else:
            try:
                devices.end_device(user, request.POST.get("device", ""), actor)
            except DomainError:
                messages.error(request, gettext("This session has already ended."))
            else:
                messages.success(request, gettext("The session has ended."))
        return redirect("cabinet:sessions")
    items = devices.list_devices(user, current_session_key=request.session.session_key)
    return render(request, "cabinet/sessions.html", {"devices": items, "section": "profile"})


@sensitive_post_parameters("password")
@subscriber_required
@require_http_methods(["GET", "POST"])
def security_view(request: HttpRequest) -> HttpResponse:
    """Second factor on/off and cabinet opt-out, both confirmed with the password."""
    form = PasswordConfirmForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and action not in ("opt_out", "2fa_on", "2fa_off"):
        raise SuspiciousOperation("unknown security action")  # a forged form; nothing changes
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        try:
            if action == "opt_out":
                accounts.opt_out_of_cabinet(me(request), form.cleaned_data["password"], actor)
                logout(request)
                messages.info(
                    request,
                    gettext(
                        "Cabinet access is switched off. You can switch it back on with “Forgot password?” or through the hotline."
                    ),
                )
                return redirect("cabinet:login")
            second_factor.set_enabled(
                me(request), action == "2fa_on", form.cleaned_data["password"], actor
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("cabinet:security")
    return render(request, "cabinet/security.html", {"form": form, "section": "profile"})


@subscriber_required
@require_POST
def push_view(request: HttpRequest) -> HttpResponse:
    """The browser's push subscription (sent by static/js/push.js), or its removal."""
    import json

    from django.http import JsonResponse

    from abonent.notifications import push

    try:
        data = json.loads(request.body or b"{}")
        endpoint = str(data["endpoint"])
        keys = data.get("keys") or {}
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False}, status=400)
    try:
        if data.get("remove"):
            push.unsubscribe(me(request), endpoint)
        else:
            push.subscribe(
                me(request),
                endpoint,
                str(keys.get("p256dh", "")),
                str(keys.get("auth", "")),
                request.META.get("HTTP_USER_AGENT", ""),
            )
    except DomainError as exc:
        return JsonResponse({"ok": False, "error": str(exc.message)}, status=400)
    return JsonResponse({"ok": True})
