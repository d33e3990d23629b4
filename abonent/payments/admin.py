import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from abonent.core.admin import ReadOnlyAdmin
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.models import Contract

from . import office
from .models import CashPayment, Payment, ProviderCall, Refund, WebhookEvent


class AmountForm(forms.Form):
    amount = forms.CharField(label=_("Amount, ₽"), max_length=20)


class CashForm(AmountForm):
    # Issued with the blank form: the same form sent twice is one payment.
    key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class RefundForm(AmountForm):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # As for cash: the same form sent twice (or again after an error page) is one refund.
    key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


def _show_errors(form: forms.Form, exc: DomainError) -> None:
    form.add_error(None, str(exc.message))
    for errors in exc.fields.values():
        for error in errors:
            form.add_error(None, str(error))


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "contract", "amount", "provider", "status", "provider_payment_id"]
    list_filter = ["status", "provider"]
    search_fields = ["=contract__number", "provider_payment_id", "=public_id"]
    change_form_template = "staff/payment_change_form.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_payment_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        payment = get_object_or_404(Payment, pk=object_id)
        form = RefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                booked = office.refund(
                    payment.pk,
                    form.cleaned_data["amount"],
                    form.cleaned_data["reason"],
                    Actor.from_request(request, "admin"),
                    key=str(form.cleaned_data["key"]),
                )
            except DomainError as exc:
                _show_errors(form, exc)
            else:
                if booked.status == Refund.Status.DONE:
                    messages.success(request, _("Refunded."))
                else:
                    messages.warning(
                        request,
                        _(
                            "The payment service has not answered yet. The refund is booked "
                            "(the balance is debited) and will be asked again automatically "
                            "every few minutes; its status is in the list of refunds."
                        ),
                    )
                return redirect(reverse("admin:payments_payment_change", args=[payment.pk]))
        return render(
            request,
            "staff/amount_form.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": _("Refund"),
                "subject": payment,
            },
        )


@admin.register(CashPayment)
class CashPaymentAdmin(ReadOnlyAdmin):
    """The cash desk: take money for a contract, print the receipt."""

    list_display = ["created_at", "contract", "amount", "cashier"]
    search_fields = ["=contract__number"]
    change_form_template = "staff/cashpayment_change_form.html"

    def get_urls(self):
        return [
            path(
                "take/<int:contract_id>/",
                self.admin_site.admin_view(self.take_view),
                name="payments_cash_take",
            ),
            path(
                "<int:cash_id>/receipt.pdf",
                self.admin_site.admin_view(self.receipt_view),
                name="payments_cash_receipt",
            ),
            *super().get_urls(),
        ]

    def take_view(self, request: HttpRequest, contract_id: int) -> HttpResponse:
        contract = get_object_or_404(Contract, pk=contract_id)
        form = CashForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cash = office.record_cash_payment(
                    contract.pk,
                    form.cleaned_data["amount"],
                    Actor.from_request(request, "admin"),
                    key=str(form.cleaned_data["key"]),
                )
            except DomainError as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Payment recorded. Print the receipt."))
                return redirect(reverse("admin:payments_cashpayment_change", args=[cash.pk]))
        return render(
            request,
            "staff/amount_form.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": _("Cash payment"),
                "subject": contract,
            },
        )

    def receipt_view(self, request: HttpRequest, cash_id: int) -> HttpResponse:
        cash = get_object_or_404(CashPayment, pk=cash_id)
        response = HttpResponse(office.cash_receipt_pdf(cash), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{cash.pk}.pdf"'
        return response


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount", "status", "reason", "created_by"]
    list_filter = ["status"]
    actions = ["mark_refunded", "mark_not_refunded"]

    def _settle(self, request: HttpRequest, queryset: Any, refunded: bool) -> None:
        actor = Actor.from_request(request, "admin")
        for record in queryset:
            try:
                office.settle_unconfirmed(record.pk, refunded, actor)
            except DomainError as exc:
                errors = [str(e) for field in exc.fields.values() for e in field]
                messages.error(request, f"{record}: {' '.join(errors) or exc.message}")
            else:
                messages.success(request, _("Settled: %(refund)s") % {"refund": record})

    @admin.action(description=_("Refunded: seen in the provider's dashboard"))
    def mark_refunded(self, request: HttpRequest, queryset: Any) -> None:
        self._settle(request, queryset, True)

    @admin.action(description=_("Not refunded: give the balance back"))
    def mark_not_refunded(self, request: HttpRequest, queryset: Any) -> None:
        self._settle(request, queryset, False)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "event_key", "result", "processed_at", "source_ip"]
    list_filter = ["provider", "result"]


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "operation", "ok", "duration_ms", "error"]
    list_filter = ["provider", "ok"]
