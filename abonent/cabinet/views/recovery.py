"""“Forgot password?” in the browser: phone → code → new password → signed in.
The steps keep their state in the session; the services are the API's too."""

from __future__ import annotations

import time
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from abonent.accounts import recovery
from abonent.core.context import Actor
from abonent.core.errors import DomainError, Throttled

from ..forms import CodeForm, NewPasswordForm
from .util import apply_domain_error

STATE = "abonent_recovery"


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone from the contract"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "+7 900 123-45-67",
                "autofocus": True,
            }
        ),
    )
    channel = forms.ChoiceField(
        label=_("How to send the code"),
        choices=[
            ("sms", _("SMS")),
            ("call", _("A call: the code is the last 4 digits of the calling number")),
        ],
        initial="sms",
        widget=forms.RadioSelect,
    )


class RecoveryPasswordForm(NewPasswordForm):
    contract_number = forms.ChoiceField(
        label=_("Contract"), required=False, widget=forms.RadioSelect
    )
    field_order = ["contract_number", "new_password", "new_password_again"]

    def __init__(self, *args: Any, contracts: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(contracts) > 1:
            choice = cast(forms.ChoiceField, self.fields["contract_number"])
            choice.choices = [(c, c) for c in contracts]
            choice.required = True
        else:
            del self.fields["contract_number"]


def masked(phone: str) -> str:
    """+79001234567 -> +7 900 ***-**-67"""
    digits = phone.lstrip("+")
    return f"+{digits[0]} {digits[1:4]} ***-**-{digits[-2:]}" if len(digits) == 11 else phone


def _issue(request: HttpRequest, phone: str, channel: str) -> None:
    issued = recovery.start(phone, channel, Actor.from_request(request))
    request.session[STATE] = {
        "request_id": issued.request_id,
        "phone": recovery.normalize_phone(phone),
        "channel": issued.channel,
        "resend_at": time.time() + issued.resend_after,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def start_view(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _issue(request, form.cleaned_data["phone"], form.cleaned_data["channel"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("cabinet:recovery_code")
    return render(request, "cabinet/recovery_start.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    state = request.session.get(STATE)
    if not state:
        return redirect("cabinet:recovery")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token = recovery.verify(state["request_id"], form.cleaned_data["code"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            request.session[STATE] = {**state, "reset_token": token}
            return redirect("cabinet:recovery_password")
    wait = max(0, int(state["resend_at"] - time.time()))
    return render(
        request,
        "cabinet/recovery_code.html",
        {"form": form, "phone": masked(state["phone"]), "channel": state["channel"], "wait": wait},
    )


@require_POST
def resend_view(request: HttpRequest) -> HttpResponse:
    state = request.session.get(STATE)
    if not state:
        return redirect("cabinet:recovery")
    try:
        _issue(request, state["phone"], request.POST.get("channel") or state["channel"])
    except Throttled as exc:
        messages.error(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.info(request, gettext("A new code is on its way."))
    return redirect("cabinet:recovery_code")


@sensitive_post_parameters("new_password", "new_password_again")
@never_cache
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    from .auth import sign_in

    state = request.session.get(STATE) or {}
    token = state.get("reset_token")
    if not token:
        return redirect("cabinet:recovery")
    try:
        contracts = recovery.contracts_for_token(token)
    except DomainError as exc:
        del request.session[STATE]
        messages.error(request, str(exc.fields.get("reset_token", [exc.message])[0]))
        return redirect("cabinet:recovery")
    form = RecoveryPasswordForm(request.POST or None, contracts=contracts)
    if request.method == "POST" and form.is_valid():
        try:
            done = recovery.complete(
                token,
                form.cleaned_data["new_password"],
                Actor.from_request(request),
                contract_number=form.cleaned_data.get("contract_number") or None,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            if done.user is not None:
                del request.session[STATE]
                response = sign_in(request, done.user)
                messages.success(request, gettext("Your password has been changed. Welcome back!"))
                return response
    return render(
        request, "cabinet/recovery_password.html", {"form": form, "several": len(contracts) > 1}
    )
