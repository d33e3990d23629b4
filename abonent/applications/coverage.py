"""Reads of the coverage register: find a street as people write it, suggest streets
while typing, and answer "can you connect this house?"."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from abonent.core.errors import ValidationFailed

from .addresses import house_key, street_key
from .models import Building, Coverage, Street


def find_street(text: str) -> Street | None:
    key = street_key(text or "")
    if not key.name:
        return None
    if key.kind:
        found = Street.objects.filter(key=str(key)).first()
        if found is not None:
            return found
    # Written without a type (or with another one): the name alone, if it is unique.
    matches = list(Street.objects.filter(name_key=key.name)[:2])
    return matches[0] if len(matches) == 1 else None


def suggest_streets(text: str, limit: int = 10) -> list[Street]:
    name = street_key(text or "").name
    if len(name) < 2:
        return []
    return list(Street.objects.filter(name_key__contains=name).order_by("name")[:limit])


@dataclass(frozen=True)
class Answer:
    coverage: str
    street: Street
    building: Building | None
    house_key: str

    @property
    def message(self) -> str:
        b = self.building
        if self.coverage == Coverage.CONNECTABLE:
            return _("Good news: your house is connected. We will call you to agree a visit.")
        if b is not None and b.network == Building.Network.PLANNED:
            when = b.planned_on.strftime("%m.%Y") if b.planned_on else ""
            return _(
                "We are building the network in your house%(when)s. We will call you to check the details."
            ) % {"when": _(" (planned for %(date)s)") % {"date": when} if when else ""}
        if self.coverage == Coverage.NEEDS_SURVEY:
            return _("Your house is connected but we need to check a free port. We will call you.")
        if b is None:
            return _(
                "There is no house %(house)s on %(street)s in our register: check the number. "
                "If it is right, we do not serve it yet; leave your phone and we will tell you when we do."
            ) % {"house": self.house_key, "street": self.street.name}
        return _(
            "We have no network in this house yet. Leave your phone and we will tell you when it comes."
        )


def check(street_text: str, house_text: str) -> Answer:
    """The coverage answer; an unknown street or something that is not a house number
    is a ValidationFailed with a message per field."""
    street = find_street(street_text)
    errors: dict[str, list] = {}
    if street is None:
        errors["street"] = [
            _(
                "We do not know this street in St. Petersburg. Check the spelling or pick it from the list."
            )
        ]
    house = house_key(house_text or "")
    if house is None:
        errors["house"] = [_("Enter a house number such as 10, 10к2 or 10 лит. А.")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert street is not None
    assert house is not None
    building = Building.objects.filter(street=street, house_key=house).first()
    if building is None or building.network == Building.Network.NONE:
        coverage = Coverage.NOT_COVERED
    elif building.network == Building.Network.CONNECTED and building.free_ports > 0:
        coverage = Coverage.CONNECTABLE
    else:
        coverage = Coverage.NEEDS_SURVEY
    return Answer(coverage, street, building, house)
