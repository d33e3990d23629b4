"""Local stand-ins for SMSC.ru and SMS.ru that answer as their HTTP APIs do, including
their errors. Tests point the real adapters at them over loopback."""

from __future__ import annotations

import itertools
import json
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from abonent.core.testing import serving

VALID = ("correct-login", "correct-psw")
API_ID = "0123-4567"
BROKE = "broke"  # a gateway account with no money
FLASH_CODE = "4821"


class FakeGateway(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail_next = 0  # answer this many requests with HTTP 500 first
        self.ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeGateway

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlparse(self.path).path
        self.server.requests.append((path, form))
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            self._send(500, {"error": "internal"})
            return
        if path == "/sys/send.php":
            self._send(200, smsc(form, next(self.server.ids)))
        elif path in ("/sms/send", "/code/call"):
            self._send(200, smsru(path, form, next(self.server.ids)))
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: dict) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _valid_phone(phone: str) -> bool:
    return phone.isdigit() and len(phone) == 11 and phone.startswith("7")


def smsc(form: dict[str, str], n: int) -> dict:
    """SMSC.ru send.php with fmt=3."""
    if form.get("login") == BROKE:
        return {"error": "no money", "error_code": 3}
    if (form.get("login"), form.get("psw")) != VALID:
        return {"error": "authorise error", "error_code": 2}
    if not _valid_phone(form.get("phones", "")):
        return {"error": "invalid number", "error_code": 7}
    if form.get("call") == "1" and form.get("mes") == "code":
        return {"id": n, "cnt": 1, "code": FLASH_CODE}
    return {"id": n, "cnt": 1}


def smsru(path: str, form: dict[str, str], n: int) -> dict:
    """SMS.ru sms/send and code/call with json=1."""
    if form.get("api_id") == BROKE:
        return {
            "status": "ERROR",
            "status_code": 201,
            "status_text": "Не хватает средств на лицевом счету",
        }
    if form.get("api_id") != API_ID:
        return {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
    if path == "/code/call":
        if not _valid_phone(form.get("phone", "")):
            return {
                "status": "ERROR",
                "status_code": 202,
                "status_text": "Неправильно указан номер",
            }
        return {
            "status": "OK",
            "code": FLASH_CODE,
            "call_id": f"{n:06d}-1",
            "cost": 0.4,
            "balance": 4122.56,
        }
    to = form.get("to", "")
    if not _valid_phone(to):
        return {
            "status": "OK",
            "status_code": 100,
            "sms": {
                to: {
                    "status": "ERROR",
                    "status_code": 202,
                    "status_text": "Неправильно указан номер телефона получателя",
                }
            },
            "balance": 4122.56,
        }
    return {
        "status": "OK",
        "status_code": 100,
        "sms": {to: {"status": "OK", "status_code": 100, "sms_id": f"{n:06d}-10000000"}},
        "balance": 4122.56,
    }


def running() -> AbstractContextManager[FakeGateway]:
    return serving(FakeGateway())
