import pytest
from django.utils import translation
from django.utils.formats import number_format
from hypothesis import given
from hypothesis import strategies as st

from abonent.core.money import Money, MoneyParseError


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("500", 500_00), ("500.5", 500_50), ("1 234,05", 1234_05), ("-10", -10_00), ("0.01", 1)],
)
def test_parse_what_people_type(text, kopecks):
    assert Money.parse(text).kopecks == kopecks


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1e5", "12,3,4", "1" * 20, "٥٠٠"])
def test_parse_rejects_garbage(text):
    with pytest.raises(MoneyParseError):
        Money.parse(text)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_roundtrips_decimal_text(kopecks):
    text = f"{'-' if kopecks < 0 else ''}{abs(kopecks) // 100}.{abs(kopecks) % 100:02d}"
    assert Money.parse(text).kopecks == kopecks


def test_format_follows_language():
    value = Money(123456_78)
    with translation.override("ru"):
        assert value.format() == "123\xa0456,78\xa0₽"
    with translation.override("en"):
        assert value.format() == "123,456.78\xa0₽"


@given(
    st.integers(min_value=-(10**14), max_value=10**14),
    st.sampled_from(["ru", "en", "de", "hi"]),
)
def test_format_writes_what_djangos_number_format_writes(kopecks, language):
    # Money.format keeps each language's separators instead of asking per call; the
    # text must stay Django's, sign, grouping, zero kopecks and all ("hi" sets no
    # group size and goes Django's own way).
    money = Money(kopecks, "USD")
    with translation.override(language):
        expected = number_format(money.decimal, 2, use_l10n=True, force_grouping=True)
        assert money.format() == f"{expected}\xa0USD"


def test_arithmetic_refuses_mixed_currencies():
    assert (Money(100) + Money(50)).kopecks == 150
    with pytest.raises(ValueError, match="currency"):
        Money(100) + Money(1, "USD")
