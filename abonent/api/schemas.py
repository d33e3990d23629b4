from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema


def one_of(*values: str) -> WithJsonSchema:
    """The values a text parameter takes, for the OpenAPI document only: the view or the
    service checks it and says what is wrong in the user's language."""
    return WithJsonSchema({"type": "string", "enum": list(values)})


def text_of(max_length: int) -> WithJsonSchema:
    """Text the service requires (not blank) and limits, checked there with its messages;
    for the OpenAPI document only."""
    return WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}
    )


class StrictIn(Schema):
    # Unknown fields are an error, not silently ignored (security.md: unexpected fields -> 4xx).
    model_config = ConfigDict(extra="forbid")


class MoneyOut(Schema):
    amount: int = Field(description="Kopecks")
    currency: str


class LoginIn(StrictIn):
    contract_number: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    device_name: str = Field(default="", max_length=100)


class TokensOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    password_change_required: bool


class RefreshIn(StrictIn):
    refresh_token: str = Field(max_length=200)


class PasswordChangeIn(StrictIn):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TariffOut(Schema):
    id: int
    name: str
    price: MoneyOut
    speed_mbps: int
    speed_out_mbps: int
    charging_mode: str


class AddOnOut(Schema):
    id: int
    name: str
    price: MoneyOut
    billing: str
    connected_on: dt.date


class NextChargeOut(Schema):
    date: dt.date
    amount: MoneyOut


class AccountOut(Schema):
    contract_number: str
    full_name: str
    address: str
    status: str
    status_display: str
    balance: MoneyOut
    tariff: TariffOut
    addons: list[AddOnOut]
    next_charge: NextChargeOut | None
    days_left: int | None
    promised_payment: dict | None = None
    suspension: dict | None = None
    scheduled_tariff_change: dict | None = None
    notices: list[str]


class SecondFactorOut(Schema):
    second_factor_required: bool = True
    request_id: str
    resend_after: int


class LoginVerifyIn(StrictIn):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)
    device_name: str = Field(default="", max_length=100)


class RecoveryStartIn(StrictIn):
    phone: str = Field(max_length=40)
    channel: Annotated[str, one_of("sms", "call")] = Field(default="sms", max_length=8)


class RecoveryStarted(Schema):
    request_id: str
    resend_after: int
    channel: str


class RecoveryVerifyIn(StrictIn):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)


class RecoveryVerified(Schema):
    reset_token: str
    contracts: list[str] = Field(description="Contracts on this phone; pick one when several")


class RecoveryCompleteIn(StrictIn):
    reset_token: str = Field(max_length=200)
    new_password: str = Field(max_length=1024)
    contract_number: str = Field(default="", max_length=20)
    device_name: str = Field(default="", max_length=100)


class RecoveryDone(TokensOut):
    contract_number: str


class DeviceOut(Schema):
    id: str
    kind: str
    name: str
    ip: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    current: bool


class OptOutIn(StrictIn):
    password: str = Field(max_length=1024)


class ProfileOut(Schema):
    contract_number: str
    full_name: str
    phone: str
    email: str
    login_sms_2fa: bool


class ProfilePatchIn(StrictIn):
    email: str | None = Field(default=None, max_length=254)


class PhoneChangeIn(StrictIn):
    phone: str = Field(max_length=40)


class PhoneConfirmIn(StrictIn):
    request_id: str = Field(max_length=64)
    code: str = Field(max_length=12)


class SecondFactorToggleIn(StrictIn):
    enabled: bool
    password: str = Field(max_length=1024)


class CatalogTariffOut(Schema):
    id: int
    name: str
    description: str
    price: MoneyOut
    speed_mbps: int
    speed_out_mbps: int
    charging_mode: str
    change_fee: MoneyOut
    current: bool


class TariffChangeIn(StrictIn):
    tariff_id: int


class PriceChangeOut(Schema):
    """A price of the tariff already announced to its subscribers (monthly, before add-ons)."""

    valid_from: dt.date
    monthly_price: MoneyOut


class TariffChangePreviewOut(Schema):
    tariff_id: int
    immediate: bool
    effective_date: dt.date
    charge_today: MoneyOut
    refund_today: MoneyOut
    fee: MoneyOut
    new_monthly_price: MoneyOut
    days_left_after: int | None
    price_change: PriceChangeOut | None = None


class TariffChangeOut(Schema):
    id: int
    from_tariff_id: int
    to_tariff_id: int
    effective_date: dt.date
    status: str


class AddOnCatalogOut(Schema):
    id: int
    name: str
    description: str
    price: MoneyOut
    billing: str
    active: bool


class AddOnPreviewOut(Schema):
    addon_id: int
    connect: bool
    charge_today: MoneyOut
    refund_today: MoneyOut
    new_monthly_total: MoneyOut


class SuspensionIn(StrictIn):
    start_date: dt.date
    end_date: dt.date


class SuspensionPreviewOut(Schema):
    start_date: dt.date
    end_date: dt.date
    days: int
    fee: MoneyOut
    charges_stop_per_month: MoneyOut
    keeps_charging_per_month: MoneyOut
    days_left_this_year: int
    min_days: int
    max_days: int


class SuspensionOut(Schema):
    id: int
    start_date: dt.date
    end_date: dt.date
    status: str
    fee: MoneyOut


class PromisedPaymentIn(StrictIn):
    amount: int | None = Field(default=None, description="Kopecks; default: the most allowed")


class PromisedPaymentOut(Schema):
    id: int
    amount: MoneyOut
    fee: MoneyOut
    expires_on: dt.date
    status: str


class StatementLineOut(Schema):
    id: int
    date: dt.date
    kind: str
    kind_display: str
    description: str
    amount: MoneyOut
    balance_after: MoneyOut


class StatementOut(Schema):
    date_from: dt.date
    date_to: dt.date
    opening_balance: MoneyOut
    closing_balance: MoneyOut
    entries: list[StatementLineOut]


class PaymentIn(StrictIn):
    amount: int = Field(description="Kopecks")
    save_method: bool = False


class PaymentOut(Schema):
    id: str
    amount: MoneyOut
    status: str
    confirmation_url: str
    created_at: dt.datetime
    cancellation_reason: str
    receipt_url: str | None = None


class AutopayMethodOut(Schema):
    title: str


class AutopayOut(Schema):
    enabled: bool
    threshold_days: int
    amount: MoneyOut | str = Field(description='Kopecks, or "cover_month"')
    monthly_cap: MoneyOut | None
    method: AutopayMethodOut | None
    paused_reason: str


class AutopayIn(StrictIn):
    enabled: bool
    threshold_days: int = 3
    amount: int | None = Field(
        default=None, description="Kopecks; null = enough to cover the next month"
    )
    monthly_cap: int | None = None


class UsageOut(Schema):
    period: dt.date
    bytes_in: int
    bytes_out: int


class SessionOut(Schema):
    started_at: dt.datetime
    ended_at: dt.datetime | None
    ip: str | None
    bytes_in: int
    bytes_out: int
    terminate_cause: str
