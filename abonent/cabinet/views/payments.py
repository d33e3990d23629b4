"""Payments: top up through the provider, the return page that follows the payment's
fate, the statement, the promised payment."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from abonent.billing import documents, lifecycle
from abonent.billing.selectors import statement
from abonent.core.context import Actor
from abonent.core.errors import DomainError, ValidationFailed
from abonent.core.money import Money, MoneyParseError
from abonent.payments import autopay
from abonent.payments import selectors as payment_selectors
from abonent.payments import services as payments
from abonent.payments.models import AutopayRule
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required
from .services import _error
from .util import apply_domain_error


class PayForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount, ₽"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "500"}
        ),
    )
    save_method = forms.BooleanField(label=_("Save the card for autopay"), required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class StatementFilter(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@subscriber_required
def payments_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    form = StatementFilter(request.GET or None)
    result = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        try:
            result = statement(contract, data.get("date_from"), data.get("date_to"))
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
    fmt = request.GET.get("format")
    if result is not None and fmt in ("csv", "pdf"):
        if fmt == "csv":
            response = HttpResponse(
                documents.statement_csv(contract, result), content_type="text/csv; charset=utf-8"
            )
        else:
            response = HttpResponse(
                documents.statement_pdf(contract, result), content_type="application/pdf"
            )
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{contract.number}.{fmt}"'
        )
        return response
    pay_form = PayForm(initial={"key": uuid.uuid4().hex})
    try:
        promise = lifecycle.plan_promise(contract)
    except DomainError as exc:
        promise, promise_refusal = None, str(exc.message)
    else:
        promise_refusal = ""
    return render(
        request,
        "cabinet/payments.html",
        {
            "contract": contract,
            "form": form,
            "statement": result,
            "promise": promise,
            "promise_refusal": promise_refusal,
            "query": request.GET.urlencode(),
            "section": "payments",
            "pay_form": pay_form,
            "suggestions": payment_selectors.suggestions(contract),
            "history": payment_selectors.payments_of(contract, 10),
        },
    )


@subscriber_required
@require_POST
def promise_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    try:
        promise = lifecycle.take_promise(contract.pk, None, Actor.from_request(request))
    except DomainError as exc:
        _error(request, exc)
        return redirect("cabinet:payments")
    messages.success(
        request,
        gettext("Done: the promised payment is on the balance until %(date)s.")
        % {"date": promise.expires_on.strftime("%d.%m.%Y")},
    )
    return redirect("cabinet:home")


@subscriber_required
@require_http_methods(["POST"])
def pay_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    form = PayForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Please correct the amount and try again."))
        return redirect("cabinet:payments")
    try:
        payment = payments.start_payment(
            contract,
            form.cleaned_data["amount"],
            idempotency_key=f"web:{me(request).pk}:{form.cleaned_data['key']}",
            return_url=request.build_absolute_uri(reverse("cabinet:payments")) + "{payment}/",
            actor=Actor.from_request(request),
            save_method=form.cleaned_data["save_method"],
        )
    except DomainError as exc:
        _error(request, exc)
        return redirect("cabinet:payments")
    return redirect(payment.confirmation_url)


@subscriber_required
def payment_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Where the provider sends the subscriber back; htmx polls the status fragment
    until the provider has told us the outcome."""
    contract = contract_for_user(me(request))
    payment = payment_selectors.payment_of(contract, public_id)
    if payment is None:
        raise Http404
    template = "cabinet/payment_status.html" if request.htmx else "cabinet/payment.html"  # type: ignore[attr-defined]
    contract.account.refresh_from_db()
    return render(
        request, template, {"payment": payment, "contract": contract, "section": "payments"}
    )


class AutopayForm(forms.Form):
    enabled = forms.BooleanField(label=_("Autopay is on"), required=False)
    threshold_days = forms.IntegerField(
        label=_("Top up when money is left for (days)"), min_value=1, max_value=15
    )
    amount = forms.CharField(
        label=_("Amount, ₽ (empty: enough for the next month)"), required=False, max_length=20
    )
    monthly_cap = forms.CharField(
        label=_("At most per month, ₽ (empty: no limit)"), required=False, max_length=20
    )


def _optional_amount(form: forms.Form, field: str) -> int | None:
    value = (form.cleaned_data.get(field) or "").strip()
    if not value:
        return None
    try:
        return Money.parse(value).kopecks
    except MoneyParseError:
        raise ValidationFailed(
            fields={field: [_("Enter the amount in rubles, e.g. 500.")]}
        ) from None


@subscriber_required
@require_http_methods(["GET", "POST"])
def autopay_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    rule = AutopayRule.objects.filter(contract=contract).first()
    method = autopay.active_method(contract)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            autopay.forget(contract, Actor.from_request(request))
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, gettext("Autopay and the saved card are deleted."))
        return redirect("cabinet:payments")
    initial = {
        "enabled": bool(rule and rule.enabled and not rule.paused_reason),
        "threshold_days": rule.threshold_days if rule else 3,
        "amount": f"{rule.amount / 100:.2f}" if rule and rule.amount else "",
        "monthly_cap": f"{rule.monthly_cap / 100:.2f}" if rule and rule.monthly_cap else "",
    }
    form = AutopayForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            autopay.update_rule(
                contract,
                enabled=form.cleaned_data["enabled"],
                threshold_days=form.cleaned_data["threshold_days"],
                amount=_optional_amount(form, "amount"),
                monthly_cap=_optional_amount(form, "monthly_cap"),
                actor=Actor.from_request(request),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("cabinet:autopay")
    return render(
        request,
        "cabinet/autopay.html",
        {"form": form, "rule": rule, "method": method, "section": "payments"},
    )


@subscriber_required
def receipt_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """The 54-FZ receipt data sent with a paid payment (the provider's online cash
    register issues the fiscal receipt itself and mails it to the contact given)."""
    contract = contract_for_user(me(request))
    payment = payment_selectors.payment_of(contract, public_id)
    if payment is None or payment.status != "succeeded" or not payment.receipt:
        raise Http404
    return render(
        request,
        "cabinet/receipt.html",
        {"payment": payment, "receipt": payment.receipt, "section": "payments"},
    )
