"""The sandbox provider: our own stand-in for a card acquirer, the default for
`make run` and the browser tests. It keeps its side of each payment in SandboxPayment,
serves a hosted card page (abonent.payments.sandbox_views) and notifies us with signed
webhooks the way a real provider does — also twice, late or out of order on request."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from ..models import SandboxPayment
from . import Provider, ProviderError, ProviderPayment, ProviderRefused

SIGNATURE_HEADER = "X-Sandbox-Signature"


def sign(body: bytes) -> str:
    return hmac.new(settings.SANDBOX_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(body), signature or "")


def _view(row: SandboxPayment) -> ProviderPayment:
    metadata = dict(row.metadata)
    if row.status == "succeeded" and row.metadata.get("save_method") and row.card_last4:
        metadata["saved_method_id"] = f"sbx_pm_{row.card_last4}_{row.provider_payment_id[-8:]}"
        metadata["saved_method_title"] = f"Card *{row.card_last4}"
    return ProviderPayment(
        id=row.provider_payment_id,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        confirmation_url=row.metadata.get("confirmation_url", ""),
        cancellation_reason=row.cancellation_reason,
        metadata=metadata,
    )


class SandboxProvider(Provider):
    name = "sandbox"

    def create(
        self,
        *,
        amount: int,
        description: str,
        return_url: str,
        idempotency_key: str,
        metadata: dict,
        save_method: bool,
        receipt: dict | None = None,
        payment_method_id: str | None = None,
    ) -> ProviderPayment:
        existing = SandboxPayment.objects.filter(metadata__idempotency_key=idempotency_key).first()
        if existing is not None:
            return _view(existing)
        if payment_method_id:
            return self._charge_saved(
                amount, description, idempotency_key, metadata, payment_method_id
            )
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
        payment_id = "sbx_" + secrets.token_hex(12)
        row = SandboxPayment.objects.create(
            provider_payment_id=payment_id,
            amount=amount,
            description=description[:300],
            return_url=return_url,
            metadata={
                **metadata,
                "idempotency_key": idempotency_key,
                "save_method": save_method,
                "receipt": receipt or {},
                "confirmation_url": origin + reverse("sandbox:pay", args=[payment_id]),
                "webhook_url": origin + reverse("payments:webhook", args=["sandbox"]),
            },
        )
        return _view(row)

    def fetch(self, provider_payment_id: str) -> ProviderPayment:
        row = SandboxPayment.objects.filter(provider_payment_id=provider_payment_id).first()
        if row is None:
            raise ProviderError("not_found")
        return _view(row)

    def _charge_saved(
        self, amount: int, description: str, idempotency_key: str, metadata: dict, method_id: str
    ) -> ProviderPayment:
        """A saved card is charged at once; a card saved from the decline test card is
        declined, so autopay retries can be seen end to end."""
        declined = method_id.startswith("sbx_pm_4444_")
        row = SandboxPayment.objects.create(
            provider_payment_id="sbx_" + secrets.token_hex(12),
            amount=amount,
            description=description[:300],
            return_url="",
            status="canceled" if declined else "succeeded",
            cancellation_reason="insufficient_funds" if declined else "",
            metadata={
                **metadata,
                "idempotency_key": idempotency_key,
                "payment_method_id": method_id,
            },
        )
        return _view(row)

    def refund(
        self,
        provider_payment_id: str,
        amount: int,
        idempotency_key: str,
        receipt: dict | None = None,
    ) -> str:
        # its own transaction, as a remote service's would be: callers hold none
        with transaction.atomic():
            row = (
                SandboxPayment.objects.select_for_update()
                .filter(provider_payment_id=provider_payment_id)
                .first()
            )
            if row is None or row.status != "succeeded":
                raise ProviderRefused("not_refundable")
            refunds = dict(row.metadata.get("refunds", {}))
            if idempotency_key not in refunds:
                if sum(refunds.values()) + amount > row.amount:
                    raise ProviderRefused("too_much")
                refunds[idempotency_key] = amount
                row.metadata = {**row.metadata, "refunds": refunds}
                row.save(update_fields=["metadata"])
        return f"sbx_refund_{list(refunds).index(idempotency_key) + 1}_{provider_payment_id}"

    def event_key(self, payload: dict) -> str:
        return f"{payload.get('event', '')}:{(payload.get('object') or {}).get('id', '')}"[:200]

    def payment_id_in(self, payload: dict) -> str | None:
        value = (payload.get("object") or {}).get("id")
        return str(value) if value else None


def notification(row: SandboxPayment, event: str) -> bytes:
    """The body a provider sends: YooKassa's shape."""
    return json.dumps(
        {
            "type": "notification",
            "event": event,
            "object": {
                "id": row.provider_payment_id,
                "status": event.split(".", 1)[1],
                "amount": {"value": f"{row.amount / 100:.2f}", "currency": row.currency},
                "metadata": {k: v for k, v in row.metadata.items() if k in ("contract", "payment")},
            },
        }
    ).encode()
