"""SMS.ru HTTP API with json=1: sms/send (api_id, to, msg) and code/call (api_id, phone).
The request status and each number's status carry status_code (100 = accepted)."""

from __future__ import annotations

from django.conf import settings

from . import Called, Gateway, GatewayError, Sent
from .http import request_json

# status_code -> (our code, can a retry help?)
ERRORS = {
    200: ("bad_credentials", False),
    201: ("no_money", False),
    202: ("invalid_number", False),
    203: ("bad_request", False),
    204: ("sender_not_approved", False),
    205: ("bad_request", False),
    207: ("number_forbidden", False),
    208: ("bad_request", False),
    209: ("number_stoplisted", False),
    210: ("bad_request", False),
    211: ("bad_request", False),
    212: ("bad_request", False),
    220: ("service_unavailable", True),
    230: ("daily_limit", True),
    231: ("too_many_requests", True),
    232: ("too_many_requests", True),
    300: ("bad_credentials", False),
    301: ("bad_credentials", False),
    302: ("account_blocked", False),
}


def _raise_for(status_code: object, text: object) -> None:
    code, retryable = ERRORS.get(int(str(status_code or 0)), ("error", True))
    raise GatewayError(code, str(text or "")[:200], retryable=retryable)


class SmsRuGateway(Gateway):
    name = "smsru"
    supports_call = True

    def __init__(self) -> None:
        self.base = settings.SMSRU_URL.rstrip("/")
        self.api_id = settings.SMSRU_API_ID
        self.sender = settings.SMSRU_SENDER

    def _call(self, path: str, params: dict[str, str]) -> dict:
        data = request_json(
            "POST",
            f"{self.base}/{path}",
            params={"api_id": self.api_id, "json": "1", **params},
            timeout=settings.SMS_TIMEOUT,
            retries=settings.SMS_HTTP_RETRIES,
            gateway=self.name,
        )
        if not isinstance(data, dict):
            raise GatewayError("bad_response", retryable=True)
        if data.get("status") != "OK":
            _raise_for(data.get("status_code"), data.get("status_text"))
        return data

    def send_sms(self, phone: str, text: str) -> Sent:
        number = phone.lstrip("+")
        params = {"to": number, "msg": text}
        if self.sender:
            params["from"] = self.sender
        data = self._call("sms/send", params)
        result = (data.get("sms") or {}).get(number) or {}
        if result.get("status") != "OK":
            _raise_for(result.get("status_code"), result.get("status_text"))
        return Sent(provider_id=str(result.get("sms_id", "")))

    def send_code_call(self, phone: str) -> Called:
        data = self._call("code/call", {"phone": phone.lstrip("+")})
        code = str(data.get("code", ""))
        if not code.isdigit():
            raise GatewayError("bad_response", "no code in the call answer", retryable=True)
        return Called(provider_id=str(data.get("call_id", "")), code=code)
