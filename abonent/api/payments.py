from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Header, Router, Status

from abonent.core.errors import NotFound
from abonent.payments import autopay, selectors
from abonent.payments import services as payments
from abonent.payments.models import AutopayRule, Payment
from abonent.subscribers.models import Contract
from abonent.subscribers.selectors import contract_for_user

from .openapi import also
from .schemas import AutopayIn, AutopayMethodOut, AutopayOut, MoneyOut, PaymentIn, PaymentOut
from .security import api_actor, me
from .services import client_idempotency_key

router = Router(tags=["payments"])


def _out(p: Payment, request: HttpRequest | None = None) -> PaymentOut:
    receipt = None
    if request is not None and p.status == Payment.Status.SUCCEEDED and p.receipt:
        receipt = request.build_absolute_uri(reverse("cabinet:receipt", args=[p.public_id]))
    return PaymentOut(
        receipt_url=receipt,
        id=str(p.public_id),
        amount=MoneyOut(amount=p.amount, currency=p.currency),
        status=p.status,
        confirmation_url=p.confirmation_url,
        created_at=p.created_at,
        cancellation_reason=p.cancellation_reason,
    )


@router.post(
    "/payments", response={201: PaymentOut}, url_name="payments_create", openapi_extra=also(503)
)
def create(
    request: HttpRequest,
    payload: PaymentIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key"),
) -> Status:
    """Start a top-up; open `confirmation_url` in the browser to pay on the provider's page."""
    payment = payments.start_payment(
        contract_for_user(me(request)),
        payload.amount,
        idempotency_key=client_idempotency_key(request, idempotency_key),
        return_url=request.build_absolute_uri("/payments/") + "{payment}/",
        actor=api_actor(request),
        save_method=payload.save_method,
    )
    return Status(201, _out(payment, request))


@router.get("/payments", response=list[PaymentOut], url_name="payments_list")
def list_payments(request: HttpRequest) -> list[PaymentOut]:
    return [_out(p, request) for p in selectors.payments_of(contract_for_user(me(request)))]


@router.get("/payments/{payment_id}", response=PaymentOut, url_name="payments_detail")
def detail(request: HttpRequest, payment_id: str) -> PaymentOut:
    payment = selectors.payment_of(contract_for_user(me(request)), payment_id)
    if payment is None:
        raise NotFound()
    return _out(payment, request)


@router.get("/payments/{payment_id}/receipt", response=dict, url_name="payments_receipt")
def receipt(request: HttpRequest, payment_id: str) -> dict:
    """The 54-FZ receipt data sent with a paid payment, as the cabinet's receipt page
    shows it (the provider's online cash register issues the fiscal receipt)."""
    payment = selectors.payment_of(contract_for_user(me(request)), payment_id)
    if payment is None or payment.status != Payment.Status.SUCCEEDED or not payment.receipt:
        raise NotFound()
    return dict(payment.receipt)


def rub(kopecks: int) -> MoneyOut:
    return MoneyOut(amount=kopecks, currency="RUB")


def _autopay_out(contract: Contract) -> AutopayOut:
    rule = AutopayRule.objects.filter(contract=contract).first()
    method = autopay.active_method(contract)
    if rule is None:
        return AutopayOut(
            enabled=False,
            threshold_days=3,
            amount="cover_month",
            monthly_cap=None,
            method=AutopayMethodOut(title=method.title) if method else None,
            paused_reason="",
        )
    return AutopayOut(
        enabled=rule.enabled and not rule.paused_reason,
        threshold_days=rule.threshold_days,
        amount=rub(rule.amount) if rule.amount else "cover_month",
        monthly_cap=rub(rule.monthly_cap) if rule.monthly_cap else None,
        method=AutopayMethodOut(title=method.title) if method else None,
        paused_reason=rule.paused_reason,
    )


@router.get("/autopay", response=AutopayOut, url_name="autopay")
def autopay_get(request: HttpRequest) -> AutopayOut:
    return _autopay_out(contract_for_user(me(request)))


@router.put("/autopay", response=AutopayOut, url_name="autopay_put")
def autopay_put(request: HttpRequest, payload: AutopayIn) -> AutopayOut:
    contract = contract_for_user(me(request))
    autopay.update_rule(
        contract,
        enabled=payload.enabled,
        threshold_days=payload.threshold_days,
        amount=payload.amount,
        monthly_cap=payload.monthly_cap,
        actor=api_actor(request),
    )
    return _autopay_out(contract)


@router.delete("/autopay", response={204: None}, url_name="autopay_delete", openapi_extra=also(404))
def autopay_delete(request: HttpRequest) -> Status:
    autopay.forget(contract_for_user(me(request)), api_actor(request))
    return Status(204, None)
