"""YooKassa through its official SDK. The SDK keeps its settings in a class (and
`configure()` resets the API address unless given again), sets no HTTP timeout and fails
with an AttributeError when the server cannot be reached: every call here configures
it, runs under a timeout and turns any failure into ProviderError — ProviderRefused
when YooKassa answered that it did not do it."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings

from . import Provider, ProviderError, ProviderPayment, ProviderRefused

logger = logging.getLogger("abonent.payments")
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="yookassa")
# Answers after which nothing happened at YooKassa (bad request, credentials, no such
# payment); 202 (still processing), 429 and 5xx leave the outcome open.
_REFUSED = {400, 401, 403, 404, 410}


def _kopecks(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def _rubles(kopecks: int) -> str:
    return f"{kopecks / 100:.2f}"


def _run(fn: Any) -> Any:
    from yookassa import Configuration

    def call() -> Any:
        Configuration.configure(
            settings.YOOKASSA_SHOP_ID,
            settings.YOOKASSA_SECRET_KEY,
            api_url=settings.YOOKASSA_API_URL,
        )
        return fn()

    try:
        return _pool.submit(call).result(timeout=settings.YOOKASSA_TIMEOUT)
    except concurrent.futures.TimeoutError:
        raise ProviderError("timeout") from None
    except Exception as exc:  # the SDK's ApiError family, requests errors, AttributeError
        content = getattr(exc, "content", None)
        code = content.get("code") if isinstance(content, dict) else type(exc).__name__
        logger.warning("yookassa call failed: %s", code)
        if getattr(exc, "HTTP_CODE", None) in _REFUSED:
            raise ProviderRefused(str(code)) from None
        raise ProviderError(str(code)) from None


def _view(response: Any) -> ProviderPayment:
    confirmation = getattr(response, "confirmation", None)
    details = getattr(response, "cancellation_details", None)
    method = getattr(response, "payment_method", None)
    metadata = dict(getattr(response, "metadata", None) or {})
    if method is not None and getattr(method, "saved", False):
        metadata["saved_method_id"] = method.id
        metadata["saved_method_title"] = getattr(method, "title", "") or ""
    return ProviderPayment(
        id=response.id,
        status=response.status,
        amount=_kopecks(response.amount.value),
        currency=response.amount.currency,
        confirmation_url=getattr(confirmation, "confirmation_url", "") or "",
        cancellation_reason=getattr(details, "reason", "") or "",
        metadata=metadata,
    )


class YooKassaProvider(Provider):
    name = "yookassa"

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
        from yookassa import Payment

        params: dict[str, Any] = {
            "amount": {"value": _rubles(amount), "currency": "RUB"},
            "capture": True,
            "description": description[:128],
            "metadata": metadata,
        }
        if payment_method_id:  # autopay with a saved method: no confirmation step
            params["payment_method_id"] = payment_method_id
        else:
            params["confirmation"] = {"type": "redirect", "return_url": return_url}
            params["save_payment_method"] = save_method
        if receipt:
            params["receipt"] = receipt
        return _view(_run(lambda: Payment.create(params, idempotency_key)))

    def fetch(self, provider_payment_id: str) -> ProviderPayment:
        from yookassa import Payment

        return _view(_run(lambda: Payment.find_one(provider_payment_id)))

    def refund(
        self,
        provider_payment_id: str,
        amount: int,
        idempotency_key: str,
        receipt: dict | None = None,
    ) -> str:
        from yookassa import Refund

        params: dict[str, Any] = {
            "payment_id": provider_payment_id,
            "amount": {"value": _rubles(amount), "currency": "RUB"},
        }
        if receipt:  # with YooKassa's receipts a refund needs its own (54-FZ)
            params["receipt"] = receipt
        response = _run(lambda: Refund.create(params, idempotency_key))
        if response.status not in ("succeeded", "pending"):
            raise ProviderRefused(f"refund {response.status}")
        return str(response.id)

    def event_key(self, payload: dict) -> str:
        obj = payload.get("object") or {}
        return f"{payload.get('event', '')}:{obj.get('id', '')}"[:200]

    def payment_id_in(self, payload: dict) -> str | None:
        obj = payload.get("object") or {}
        if str(payload.get("event", "")).startswith("refund."):
            return str(obj.get("payment_id") or "") or None
        return str(obj.get("id") or "") or None


def address_allowed(ip: str | None) -> bool:
    """YooKassa signs nothing: accept notifications only from its published networks
    (settings.YOOKASSA_WEBHOOK_NETWORKS); the SDK's own check refuses 127.0.0.1, so
    tests configure ours."""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in settings.YOOKASSA_WEBHOOK_NETWORKS
    )
