"""Money is an integer number of kopecks plus a currency; never a float."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import get_format, number_format
from django.utils.translation import get_language

_AMOUNT_RE = re.compile(r"^([+-]?)([0-9]{1,12})(?:[.,]([0-9]{1,2}))?$")


_SYMBOLS = {"RUB": "₽"}


@functools.cache
def _number_format_of(language: str | None) -> tuple[str, str, int]:
    """The decimal separator, thousand separator and group size of a language
    (a group size of 0 for a locale whose grouping is not one fixed size)."""
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    return (
        get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
        get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
        grouping if isinstance(grouping, int) else 0,
    )


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
        """Locale-aware: "1 234,50 ₽" in Russian, "1,234.50 ₽" in English — what
        Django's number_format writes, without its per-call format lookups (every
        amount on every page comes through here)."""
        symbol = _SYMBOLS.get(self.currency, self.currency)
        decimal_sep, thousand_sep, grouping = _number_format_of(get_language())
        if grouping <= 0:  # a locale without one fixed group size: Django's own way
            amount = number_format(self.decimal, 2, use_l10n=True, force_grouping=True)
            return f"{amount}\u00a0{symbol}"
        whole, kopecks = divmod(abs(self.kopecks), 100)
        digits = str(whole)
        head = len(digits) % grouping or grouping
        groups = [digits[:head]] + [
            digits[i : i + grouping] for i in range(head, len(digits), grouping)
        ]
        sign = "-" if self.kopecks < 0 else ""
        return f"{sign}{thousand_sep.join(groups)}{decimal_sep}{kopecks:02d}\u00a0{symbol}"

    def __str__(self) -> str:
        return self.format()
