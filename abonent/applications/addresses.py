"""Russian addresses as people write them: "пр. Невский", "Невский просп.", "Невский
проспект"; "д. 10", "10к2", "10 корп. 2", "10А", "10 лит. А". Streets are matched by a
key (name words + street type), houses by a canonical form, so the coverage register and
an applicant's typing meet."""

from __future__ import annotations

import re
from dataclasses import dataclass

STREET_TYPES = {
    "ул": "ул",
    "улица": "ул",
    "пр": "пр",
    "пр-т": "пр",
    "прт": "пр",
    "просп": "пр",
    "проспект": "пр",
    "пер": "пер",
    "переулок": "пер",
    "наб": "наб",
    "набережная": "наб",
    "ш": "ш",
    "шоссе": "ш",
    "б-р": "б-р",
    "бул": "б-р",
    "бульвар": "б-р",
    "пл": "пл",
    "площадь": "пл",
    "линия": "линия",
    "лин": "линия",
    "аллея": "аллея",
    "ал": "аллея",
    "проезд": "проезд",
    "пр-д": "проезд",
}
CITY_WORDS = {"г", "город", "санкт-петербург", "спб", "с-пб", "петербург"}


def _words(text: str) -> list[str]:
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[,;]", " ", text)
    text = re.sub(r"\.(?=\S)", ". ", text)  # "пр.Невский" → "пр. Невский"
    return [w.strip(".") for w in text.split() if w.strip(".")]


@dataclass(frozen=True)
class StreetKey:
    name: str  # "невский", "садовая", "2-я советская"
    kind: str  # "пр", "ул", ... or "" when the writer left it out

    def __str__(self) -> str:
        return f"{self.name}|{self.kind}"


def street_key(text: str) -> StreetKey:
    kind = ""
    name = []
    for word in _words(text):
        if word in CITY_WORDS:
            continue
        if word in STREET_TYPES and not kind:
            kind = STREET_TYPES[word]
            continue
        name.append(word)
    return StreetKey(" ".join(name), kind)


_HOUSE = re.compile(
    r"""^(?:д|дом)?\.?\s*
        (?P<num>[1-9]\d{0,3})(?:\s*/\s*(?P<frac>\d{1,4}))?
        \s*(?P<letter>[а-я])?
        (?:\s*(?:к|корп|корпус|к\.)\.?\s*(?P<korp>\d{1,3}))?
        (?:\s*(?:лит|литера|литер|л)\.?\s*(?P<lit>[а-я]))?
        (?:\s*(?:стр|строение|с)\.?\s*(?P<str>\d{1,3}))?
        $""",
    re.X,
)


def house_key(text: str) -> str | None:
    """Canonical house: "10", "10/2", "10 к2", "10 лит а", "10 к2 лит а"; a letter
    right after the number is read as the litera ("10А" = "10 лит. А"). None when it
    is not a house number."""
    value = re.sub(r"[,;]", " ", text.lower().replace("ё", "е"))
    value = re.sub(r"\s+", " ", value).strip()
    match = _HOUSE.match(value)
    if not match:
        return None
    parts = [match["num"] + (f"/{match['frac']}" if match["frac"] else "")]
    if match["korp"]:
        parts.append(f"к{match['korp']}")
    litera = match["lit"] or match["letter"]
    if litera:
        parts.append(f"лит {litera}")
    if match["str"]:
        parts.append(f"стр {match['str']}")
    return " ".join(parts)


def split_address(text: str) -> tuple[str, str, str]:
    """One line "ул. Садовая, д. 10, кв. 5" → (street, house, flat) as written; the
    form has separate fields, this serves the API and CSV import."""
    flat = ""
    m = re.search(r"(?:кв|квартира)\.?\s*(\d+\w?)", text, re.I)
    if m:
        flat = m.group(1)
        text = text[: m.start()] + text[m.end() :]
    m = re.search(r"(?:,|\s)\s*((?:д|дом)\.?\s*\d.*|\d+.*)$", text, re.I)
    if not m:
        return text.strip(" ,"), "", flat
    return text[: m.start()].strip(" ,"), m.group(1).strip(" ,"), flat
