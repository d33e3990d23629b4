from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field


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
    notices: list[str]
