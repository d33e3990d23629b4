"""A local stand-in for the YooKassa API v3 that answers as the real one does: Basic
auth, Idempotence-Key, payments (create, find), saved methods, cancellations with
reasons, refunds, and JSON errors."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from abonent.core.testing import serving

SHOP_ID, SECRET = "123456", "test_secret"


class FakeYooKassa(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.by_key: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict | None, dict]] = []
        self.decline_saved_with: str | None = None  # e.g. "insufficient_funds"
        # Requests done here whose answer is lost on the way back (a 500 instead): the
        # client cannot know whether they took effect.
        self.lose_answers = 0
        self.seq = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v3"

    def set_status(self, payment_id: str, status: str, reason: str = "") -> None:
        payment = self.payments[payment_id]
        payment["status"] = status
        payment["paid"] = status == "succeeded"
        if reason:
            payment["cancellation_details"] = {"party": "payment_network", "reason": reason}
        if status == "succeeded" and payment.get("_save"):
            payment["payment_method"] = {
                "type": "bank_card",
                "id": f"pm-{payment_id}",
                "saved": True,
                "title": "Bank card *4444",
            }


def _error(code: str, description: str, status: int) -> tuple[int, dict]:
    return status, {
        "type": "error",
        "id": str(uuid.uuid4()),
        "code": code,
        "description": description,
    }


class Handler(BaseHTTPRequestHandler):
    server: FakeYooKassa

    def log_message(self, *args: object) -> None:
        pass

    def _auth_ok(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def _reply(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, None, dict(self.headers)))
        if not self._auth_ok():
            self._reply(*_error("invalid_credentials", "Authentication error", 401))
            return
        payment_id = self.path.rsplit("/", 1)[-1]
        payment = self.server.payments.get(payment_id)
        if payment is None:
            self._reply(*_error("not_found", "Payment not found", 404))
            return
        self._reply(200, {k: v for k, v in payment.items() if not k.startswith("_")})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(("POST", self.path, body, dict(self.headers)))
        if not self._auth_ok():
            self._reply(*_error("invalid_credentials", "Authentication error", 401))
            return
        key = self.headers.get("Idempotence-Key")
        if not key:
            self._reply(*_error("invalid_request", "Idempotence key not specified", 400))
            return
        if key in self.server.by_key:
            self._reply(
                200, {k: v for k, v in self.server.by_key[key].items() if not k.startswith("_")}
            )
            return
        if self.path.endswith("/payments"):
            status, result = self._create_payment(body)
        elif self.path.endswith("/refunds"):
            status, result = self._create_refund(body)
        else:
            status, result = _error("not_found", "Unknown method", 404)
        if status == 200:
            self.server.by_key[key] = result
        if self.server.lose_answers > 0:
            self.server.lose_answers -= 1
            self._reply(*_error("internal_server_error", "Internal server error", 500))
            return
        self._reply(status, {k: v for k, v in result.items() if not k.startswith("_")})

    def _create_payment(self, body: dict) -> tuple[int, dict]:
        amount = body.get("amount") or {}
        try:
            value = float(amount.get("value", "0"))
        except ValueError:
            value = 0
        if value <= 0:
            return _error("invalid_request", "Invalid amount", 400)
        payment_id = f"2{next(self.server.seq):07d}-000f-5000-9000-{uuid.uuid4().hex[:12]}"
        payment = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": amount,
            "description": body.get("description", ""),
            "metadata": body.get("metadata", {}),
            "created_at": "2026-11-27T10:00:00.000Z",
            "test": True,
            "_save": bool(body.get("save_payment_method")),
            "_receipt": body.get("receipt"),
        }
        if body.get("payment_method_id"):
            if self.server.decline_saved_with:
                payment["status"] = "canceled"
                payment["cancellation_details"] = {
                    "party": "payment_network",
                    "reason": self.server.decline_saved_with,
                }
            else:
                payment["status"], payment["paid"] = "succeeded", True
        else:
            payment["confirmation"] = {
                "type": "redirect",
                "confirmation_url": f"https://yoomoney.ru/checkout/payments/v2/contract?orderId={payment_id}",
                "return_url": (body.get("confirmation") or {}).get("return_url", ""),
            }
        self.server.payments[payment_id] = payment
        return 200, payment

    def _create_refund(self, body: dict) -> tuple[int, dict]:
        payment = self.server.payments.get(body.get("payment_id", ""))
        if payment is None or payment["status"] != "succeeded":
            return _error("invalid_request", "Payment is not refundable", 400)
        if payment.get("_receipt") and not (body.get("receipt") or {}).get("items"):
            # as YooKassa answers a shop that sends receipts
            return _error("invalid_request", "Receipt is missing or illegal", 400)
        refund = {
            "id": f"refund-{next(self.server.seq)}",
            "payment_id": payment["id"],
            "status": "succeeded",
            "amount": body.get("amount"),
        }
        self.server.refunds[refund["id"]] = refund
        return 200, refund


def running() -> AbstractContextManager[FakeYooKassa]:
    return serving(FakeYooKassa())
