from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from abonent.accounts import devices
from abonent.accounts import services as accounts
from abonent.accounts.middleware import mark_session_start
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import DomainError, ValidationFailed

from ..access import me, subscriber_required
from ..forms import LoginForm, PasswordChangeForm
from . import second_factor
from .util import apply_domain_error

SUBSCRIBER_BACKEND = "abonent.accounts.backends.SubscriberBackend"


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(me(request), "is_subscriber", False):
        return redirect("cabinet:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        try:
            user = accounts.authenticate_subscriber(
                form.cleaned_data["contract_number"], form.cleaned_data["password"], actor
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            target = request.POST.get("next") or request.GET.get("next", "")
            if user.login_sms_2fa:
                return second_factor.start(request, user, target)
            return sign_in(request, user, target)
    return render(
        request, "cabinet/login.html", {"form": form, "next": request.GET.get("next", "")}
    )


def sign_in(request: HttpRequest, user: User, target: str = "") -> HttpResponse:
    """Open a cabinet session for a user who has proved who they are."""
    login(request, user, backend=SUBSCRIBER_BACKEND)  # rotates the session id
    mark_session_start(request)
    actor = Actor.from_request(request)
    devices.start_web_session(user, request.session.session_key or "", actor)
    accounts.record_login(user, actor)
    if user.password_change_required:
        return redirect("cabinet:password_change")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("cabinet:home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.session.session_key:
        devices.forget_web_session(request.session.session_key)
    logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("cabinet:login")


@sensitive_post_parameters("old_password", "new_password", "new_password_again")
@never_cache
@subscriber_required(allow_password_change=True)
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.change_password(
                me(request),
                form.cleaned_data["old_password"],
                form.cleaned_data["new_password"],
                Actor.from_request(request),
                keep_session_key=request.session.session_key,
            )
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        else:
            old_key = request.session.session_key or ""
            update_session_auth_hash(request, me(request))  # rotates the session id
            devices.rekey_web_session(old_key, request.session.session_key or "")
            messages.success(request, _("Your password has been changed."))
            return redirect("cabinet:home")
    return render(
        request,
        "cabinet/password_change.html",
        {"form": form, "forced": me(request).password_change_required},
    )
