"""SMSC.ru HTTP API: send.php with fmt=3 (JSON). Errors come as
{"error": "...", "error_code": N}; a flash call is call=1 with mes=code, and the answer
carries the code (the last digits of the calling number)."""

from __future__ import annotations

from django.conf import settings

from . import Called, Gateway, GatewayError, Sent
from .http import request_json

# error_code -> (our code, can a retry help?)
ERRORS = {
    1: ("bad_request", False),
    2: ("bad_credentials", False),
    3: ("no_money", False),
    4: ("ip_blocked", False),
    5: ("bad_request", False),
    6: ("message_forbidden", False),
    7: ("invalid_number", False),
    8: ("undeliverable", False),
    9: ("too_many_requests", True),
}


class SmscGateway(Gateway):
    name = "smsc"
    supports_call = True

    def __init__(self) -> None:
        self.url = settings.SMSC_URL.rstrip("/") + "/sys/send.php"
        self.login = settings.SMSC_LOGIN
        self.password = settings.SMSC_PASSWORD
        self.sender = settings.SMSC_SENDER

    def _send(self, phone: str, extra: dict[str, str]) -> dict:
        params = {
            "login": self.login,
            "psw": self.password,
            "phones": phone.lstrip("+"),
            "fmt": "3",
            "charset": "utf-8",
            **extra,
        }
        if self.sender:
            params["sender"] = self.sender
        data = request_json(
            "POST",
            self.url,
            params=params,
            timeout=settings.SMS_TIMEOUT,
            retries=settings.SMS_HTTP_RETRIES,
            gateway=self.name,
        )
        if not isinstance(data, dict):
            raise GatewayError("bad_response", retryable=True)
        if "error_code" in data or "error" in data:
            code, retryable = ERRORS.get(int(data.get("error_code", 0)), ("error", True))
            raise GatewayError(code, str(data.get("error", ""))[:200], retryable=retryable)
        return data

    def send_sms(self, phone: str, text: str) -> Sent:
        data = self._send(phone, {"mes": text})
        return Sent(provider_id=str(data.get("id", "")))

    def send_code_call(self, phone: str) -> Called:
        data = self._send(phone, {"mes": "code", "call": "1"})
        code = str(data.get("code", ""))
        if not code.isdigit():
            raise GatewayError("bad_response", "no code in the call answer", retryable=True)
        return Called(provider_id=str(data.get("id", "")), code=code)
