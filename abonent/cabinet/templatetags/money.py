from django import template

from abonent.core.money import Money

register = template.Library()


@register.filter(name="money")
def money(kopecks: int | None) -> str:
    """Kopecks as the locale writes money: 1 234,50 ₽."""
    return "" if kopecks is None else Money(int(kopecks)).format()


@register.filter(name="money_plain")
def money_plain(kopecks: int | None) -> str:
    """Kopecks as a plain amount a form accepts back: 1234.50."""
    return "" if kopecks is None else f"{int(kopecks) / 100:.2f}"
