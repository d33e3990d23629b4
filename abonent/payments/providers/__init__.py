"""Payment providers behind one interface: `sandbox` (our own hosted page for local runs
and demos) and `yookassa` (the official SDK). settings.PAYMENT_PROVIDER picks one."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class ProviderError(Exception):
    """The provider could not be reached or refused the call. Raised as such, the
    outcome is unknown (a timeout, a 5xx): the call may have taken effect."""


class ProviderRefused(ProviderError):
    """The provider answered that it did not do it (a 4xx, a canceled refund): nothing
    happened there, and the same call would be refused again."""


@dataclass(frozen=True)
class ProviderPayment:
    """What the provider says about a payment: the only source of truth we act on."""

    id: str
    status: str  # pending | waiting_for_capture | succeeded | canceled
    amount: int  # kopecks
    currency: str = "RUB"
    confirmation_url: str = ""
    cancellation_reason: str = ""
    metadata: dict = field(default_factory=dict)


class Provider:
    name = "base"

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
        """Create a payment: with a redirect confirmation, or charged at once with a saved
        `payment_method_id` (autopay)."""
        raise NotImplementedError

    def refund(
        self,
        provider_payment_id: str,
        amount: int,
        idempotency_key: str,
        receipt: dict | None = None,
    ) -> str:
        """Return money to the payer; answers the provider's refund id. The same key
        returns the same refund, so an unanswered call is safely asked again. `receipt`:
        the 54-FZ receipt of the refund, required when the payment had one."""
        raise NotImplementedError

    def fetch(self, provider_payment_id: str) -> ProviderPayment:
        raise NotImplementedError

    def event_key(self, payload: dict) -> str:
        """The unique key of a notification, for the inbox."""
        raise NotImplementedError

    def payment_id_in(self, payload: dict) -> str | None:
        raise NotImplementedError


PROVIDERS = {
    "sandbox": "abonent.payments.providers.sandbox.SandboxProvider",
    "yookassa": "abonent.payments.providers.yookassa.YooKassaProvider",
}


@cache
def get_provider(name: str | None = None) -> Provider:
    provider: Provider = import_string(PROVIDERS[name or settings.PAYMENT_PROVIDER])()
    return provider
