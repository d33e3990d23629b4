"""SMS / flash-call gateways. Each speaks its provider's real HTTP API; `console` is the
development default. Pick one with settings.SMS_GATEWAY."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayError(Exception):
    """`retryable` tells the job whether trying again later can help (timeouts, 5xx,
    provider overload) or not (bad credentials, invalid number)."""

    def __init__(self, code: str, detail: str = "", *, retryable: bool) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.retryable = retryable


@dataclass(frozen=True)
class Sent:
    provider_id: str


@dataclass(frozen=True)
class Called:
    provider_id: str
    code: str  # the last digits of the calling number


class Gateway:
    name = "base"
    supports_call = False
    shows_secrets = False  # only the console may keep one-time codes readable

    def send_sms(self, phone: str, text: str) -> Sent:
        raise NotImplementedError

    def send_code_call(self, phone: str) -> Called:
        raise GatewayError("unsupported", "flash calls are not supported", retryable=False)


GATEWAYS = {
    "console": "abonent.notifications.gateways.console.ConsoleGateway",
    "smsc": "abonent.notifications.gateways.smsc.SmscGateway",
    "smsru": "abonent.notifications.gateways.smsru.SmsRuGateway",
}


@cache
def _load(name: str) -> Gateway:
    gateway: Gateway = import_string(GATEWAYS[name])()
    return gateway


def get_gateway() -> Gateway:
    return _load(settings.SMS_GATEWAY)
