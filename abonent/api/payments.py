from __future__ import annotations

from django.http import HttpRequest
from ninja import Header, Router, Status

from abonent.core.errors import NotFound
from abonent.payments import selectors
from abonent.payments import services as payments
from abonent.payments.models import Payment
from abonent.subscribers.selectors import contract_for_user

from .schemas import MoneyOut, PaymentIn, PaymentOut
from .security import api_actor, me
from .services import client_idempotency_key

router = Router(tags=["payments"])


def _out(p: Payment) -> PaymentOut:
    return PaymentOut(
        id=str(p.public_id),
        amount=MoneyOut(amount=p.amount, currency=p.currency),
        status=p.status,
        confirmation_url=p.confirmation_url,
        created_at=p.created_at,
        cancellation_reason=p.cancellation_reason,
    )


@router.post("/payments", response={201: PaymentOut}, url_name="payments_create")
def create(
    request: HttpRequest,
    payload: PaymentIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
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
    return Status(201, _out(payment))


@router.get("/payments", response=list[PaymentOut], url_name="payments_list")
def list_payments(request: HttpRequest) -> list[PaymentOut]:
    return [_out(p) for p in selectors.payments_of(contract_for_user(me(request)))]


@router.get("/payments/{payment_id}", response=PaymentOut, url_name="payments_detail")
def detail(request: HttpRequest, payment_id: str) -> PaymentOut:
    payment = selectors.payment_of(contract_for_user(me(request)), payment_id)
    if payment is None:
        raise NotFound()
    return _out(payment)
