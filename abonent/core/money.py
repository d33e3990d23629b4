"""Money is an integer number of kopecks plus a currency; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format

_AMOUNT_RE = re.compile(r"^([+-]?)([0-9]{1,12})(?:[.,]([0-9]{1,2}))?$")


class MoneyParseError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    kopecks: int
    currency: str = "RUB"

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.kopecks + other.kopecks, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.kopecks - other.kopecks, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.kopecks, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.kopecks) / 100

    @classmethod
    def parse(cls, text: str, currency: str = "RUB") -> Money:
        """Parse what a person types: "500", "500.5", "1 234,50" (spaces as separators)."""
        cleaned = text.replace("\u00a0", "").replace(" ", "")
        match = _AMOUNT_RE.match(cleaned)
        if not match:
            raise MoneyParseError(text)
        sign, whole, frac = match.groups()
        kopecks = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
        return cls(-kopecks if sign == "-" else kopecks, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str = "RUB") -> Money:
        try:
            quantized = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise MoneyParseError(str(value)) from exc
        return cls(int(quantized * 100), currency)

    def format(self) -> str:
        """Locale-aware: "1 234,50 ₽" in Russian, "1,234.50 ₽" in English."""
        symbol = {"RUB": "₽"}.get(self.currency, self.currency)
        return f"{number_format(self.decimal, 2, use_l10n=True, force_grouping=True)}\u00a0{symbol}"

    def __str__(self) -> str:
        return self.format()
