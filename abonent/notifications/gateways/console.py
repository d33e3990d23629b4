import logging
import secrets

from . import Called, Gateway, Sent

logger = logging.getLogger("abonent.sms")


class ConsoleGateway(Gateway):
    """Development default, like Django's console e-mail backend: one line per message
    on the server console, and the outbox row (visible to staff) keeps the full text."""

    name = "console"
    supports_call = True
    shows_secrets = True

    def send_sms(self, phone: str, text: str) -> Sent:
        print(f"SMS to {phone}: {text}", flush=True)
        return Sent(provider_id=f"console-{secrets.token_hex(4)}")

    def send_code_call(self, phone: str) -> Called:
        code = f"{secrets.randbelow(10_000):04d}"
        print(f"CALL to {phone}: from +7 900 000-{code[:2]}-{code[2:]} (code {code})", flush=True)
        return Called(provider_id=f"console-{secrets.token_hex(4)}", code=code)
