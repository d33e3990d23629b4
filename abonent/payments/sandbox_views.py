"""The sandbox provider's hosted card page. It stands in for the provider's site: in
production the subscriber types the card on the provider's page, never on ours, and
here nothing but the last four digits is kept."""

from __future__ import annotations

import logging
import threading

import httpx
from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .models import SandboxPayment
from .providers.sandbox import SIGNATURE_HEADER, notification, sign

logger = logging.getLogger("abonent.payments")

# Test cards, as providers publish them.
SUCCESS = "4111111111111111"
DECLINE = "4000000000000002"
THREE_DS = "4000000000003220"
# Pays now, but once saved for autopay it is declined: autopay retries can be tried out.
SAVED_DECLINES = "5555555555554444"
THREE_DS_CODE = "123456"
LATE_SECONDS = 5.0


class CardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    expiry = forms.CharField(
        label=_("Valid until (MM/YY)"),
        max_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "12/30"}),
    )
    cvc = forms.CharField(
        label=_("CVC"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}),
    )
    duplicate = forms.BooleanField(label=_("Test: send the notification twice"), required=False)
    late = forms.BooleanField(label=_("Test: send the notification late"), required=False)
    out_of_order = forms.BooleanField(
        label=_("Test: send notifications out of order"), required=False
    )

    def clean_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit())
        if len(digits) not in (16, 18, 19):
            raise forms.ValidationError(_("A card number has 16 to 19 digits."))
        return digits


def _send(url: str, body: bytes) -> None:
    try:
        httpx.post(
            url,
            content=body,
            timeout=5,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)},
        )
    except httpx.HTTPError as exc:
        logger.warning("sandbox notification to %s failed: %s", url, type(exc).__name__)


def notify(
    row: SandboxPayment, *, duplicate: bool = False, late: bool = False, out_of_order: bool = False
) -> None:
    """Post the notifications from a thread, after the page has answered, as a provider
    would from its own servers."""
    url = row.metadata["webhook_url"]
    final = notification(row, f"payment.{row.status}")
    bodies = [final]
    if out_of_order and row.status == "succeeded":
        bodies = [final, notification(row, "payment.waiting_for_capture")]
    if duplicate:
        bodies = [*bodies, final]

    def run() -> None:
        for body in bodies:
            _send(url, body)

    timer = threading.Timer(LATE_SECONDS if late else 0.05, run)
    timer.daemon = True
    timer.start()


def _row(payment_id: str) -> SandboxPayment:
    row = SandboxPayment.objects.filter(provider_payment_id=payment_id[:100]).first()
    if row is None:
        raise Http404
    return row


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, payment_id: str) -> HttpResponse:
    row = _row(payment_id)
    if row.status != "pending":
        return redirect(row.return_url)
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        row.card_last4 = number[-4:]
        options = {k: form.cleaned_data[k] for k in ("duplicate", "late", "out_of_order")}
        if number == THREE_DS:
            row.metadata = {**row.metadata, "options": options}
            row.save(update_fields=["card_last4", "metadata"])
            return redirect("sandbox:three_ds", payment_id=row.provider_payment_id)
        if number in (SUCCESS, SAVED_DECLINES):
            row.status = "succeeded"
        else:
            row.status, row.cancellation_reason = (
                "canceled",
                "insufficient_funds" if number == DECLINE else "card_expired",
            )
        row.save(update_fields=["status", "card_last4", "cancellation_reason"])
        notify(row, **options)
        return redirect(row.return_url)
    return render(request, "sandbox/pay.html", {"row": row, "form": form})


@require_http_methods(["GET", "POST"])
def three_ds(request: HttpRequest, payment_id: str) -> HttpResponse:
    row = _row(payment_id)
    if row.status != "pending":
        return redirect(row.return_url)
    if request.method == "POST":
        if request.POST.get("code") == THREE_DS_CODE:
            row.status = "succeeded"
        else:
            row.status, row.cancellation_reason = "canceled", "3d_secure_failed"
        row.save(update_fields=["status", "cancellation_reason"])
        notify(row, **row.metadata.get("options", {}))
        return redirect(row.return_url)
    return render(request, "sandbox/three_ds.html", {"row": row})
