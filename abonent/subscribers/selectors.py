"""Read queries. `contract_for_user` is the one gate through which every cabinet and
API view reaches subscriber data: a user sees their own contract and nothing else."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model, OuterRef, Q, QuerySet

from abonent.accounts.models import User
from abonent.catalog.models import AddOn
from abonent.core import clock, jsonrows, phones
from abonent.core.errors import NotFound

from .models import Contract, ContractAddOn, passport_digest


@functools.cache
def _contract_relations() -> dict[str, type[Model]]:
    return {
        name: Contract._meta.get_field(name).related_model  # type: ignore[misc]
        for name in ("subscriber", "address", "tariff", "account")
    }


# Every cabinet page and API call starts here, so the query is built once per process
# (abonent.core.jsonrows.Prepared): building it took longer than running it.
_ADDON = {"addon": AddOn}


def own_contract_row(user_id: Any, *extra: Any) -> QuerySet[Contract]:
    """The row `contract_from_row` reads: the user's contract with its subscriber,
    address, tariff, account and connected add-ons, then the `extra` columns (another
    module's subqueries on the contract, so that a page needs one round trip)."""
    return Contract.objects.filter(user_id=user_id).values_list(
        *jsonrows.flat(Contract, _contract_relations()),
        jsonrows.all_rows(
            ContractAddOn.objects.filter(contract=OuterRef("pk"), disconnected_on__isnull=True),
            _ADDON,
        ),
        *extra,
    )


def contract_from_row(row: Sequence[Any]) -> tuple[Contract, Sequence[Any]]:
    """The contract from an `own_contract_row` row, and the extra columns."""
    relations = _contract_relations()
    contract = jsonrows.from_flat(Contract, row, relations)
    width = _contract_width()
    jsonrows.prefetched(contract, "addons", jsonrows.instances(ContractAddOn, row[width], _ADDON))
    return contract, row[width + 1 :]


@functools.cache
def _contract_width() -> int:
    return len(jsonrows.flat(Contract, _contract_relations()))


def own_row(query: jsonrows.Prepared, user: User, *keys: jsonrows.Key) -> tuple[Any, ...]:
    """The row of `query` (built on `own_contract_row`) for this user's own contract;
    anyone but a signed-in subscriber with a contract gets a 404."""
    if not user.is_authenticated or user.kind != User.Kind.SUBSCRIBER:
        raise NotFound()
    row = query.row(user.pk, *keys)
    if row is None:
        raise NotFound()
    return row


_CONTRACT = jsonrows.Prepared(own_contract_row)


def contract_for_user(user: User) -> Contract:
    """The contract this user may see, with what the cabinet home shows (subscriber,
    address, tariff, account, connected add-ons), in one query."""
    return contract_from_row(own_row(_CONTRACT, user))[0]


# --- staff search ("lost contract") --------------------------------------------------

# Words people put into an address that are not part of the stored street or house.
_ADDRESS_WORDS = {
    "ул",
    "улица",
    "пр",
    "пр-т",
    "просп",
    "проспект",
    "д",
    "дом",
    "кв",
    "квартира",
    "к",
    "корп",
    "корпус",
    "стр",
    "строение",
    "st",
    "str",
    "street",
    "h",
    "apt",
}
_PHONE_CHARS = re.compile(r"^[0-9\s()+.\-]+$")
MAX_QUERY_LENGTH = 100


def _phone_candidates(query: str) -> set[str]:
    """E.164 forms of a query written as a Russian phone number in any common way:
    "+7 (900) 111-22-33", "8 900 111 22 33", "9001112233"."""
    digits = re.sub(r"\D", "", query)
    found: set[str] = set()
    if len(digits) == 11 and digits[0] in "78":
        found.add("+7" + digits[1:])
    elif len(digits) == 10:
        found.add("+7" + digits)
    with contextlib.suppress(phones.InvalidPhone):
        found.add(phones.normalize(query))
    return found


def _contains(field: str, term: str) -> Q:
    """Case-insensitive "contains". PostgreSQL compares Cyrillic case-insensitively;
    SQLite's LIKE folds ASCII only, so there the usual spellings are tried as well."""
    if connection.vendor != "sqlite":
        return Q(**{f"{field}__icontains": term})
    q = Q()
    for variant in {term, term.lower(), term.upper(), term.capitalize()}:
        q |= Q(**{f"{field}__contains": variant})
    return q


def _term(term: str) -> Q:
    """One word of the query matches a name, the street, or (digits) the contract
    number, house, building or flat."""
    q = (
        _contains("subscriber__last_name", term)
        | _contains("subscriber__first_name", term)
        | _contains("subscriber__middle_name", term)
        | _contains("address__street", term)
        | Q(address__house__iexact=term)
    )
    if term.isdigit():
        q |= Q(number=term) | Q(address__flat=term) | Q(address__building=term)
    return q


PASSPORT_DIGITS = 10  # series (4) and number (6)


def _network_match(query: str) -> Q:
    """A PPPoE login, or an IP address: the static one, or one a session had in the
    last 90 days (the hotline is often given the address a complaint names). Resolved
    to ids first by indexed lookups, so the big OR below stays cheap."""
    from abonent.network.models import Credential, Session

    try:
        ip = str(ipaddress.ip_address(query))
    except ValueError:
        ip = ""
    if ip:
        since = clock.now() - dt.timedelta(days=90)
        ids = set(
            Session.objects.filter(framed_ip=ip, started_at__gte=since).values_list(
                "contract_id", flat=True
            )
        ) | set(Credential.objects.filter(static_ip=ip).values_list("contract_id", flat=True))
    elif " " in query:
        return Q(pk__in=[])
    else:  # logins are stored as issued (contract numbers, lower case): the unique index
        ids = set(
            Credential.objects.filter(login__in={query, query.lower()}).values_list(
                "contract_id", flat=True
            )
        )
    return Q(pk__in=sorted(i for i in ids if i is not None))


def search_contracts(query: str, limit: int = 50) -> list[Contract]:
    """Staff look a contract up by its number, the subscriber's last or first name
    (any case, part of a word), phone (written any usual way), or address ("Садовая 10",
    "ул. Садовая, д. 10, кв. 5"). Every word must match something; a query that is a
    whole phone number is looked up as one.

    A passport (series and number, spaces or not) is matched by its keyed digest: the
    encrypted fields themselves cannot be searched."""
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    if not query:
        return []
    condition = Q(pk__in=[])  # matches nothing; each way of reading the query adds to it
    condition |= _network_match(query)
    digits = re.sub(r"\D", "", query)
    phone_like = bool(_PHONE_CHARS.match(query)) and bool(digits)
    if phone_like:
        candidates = _phone_candidates(query)
        if candidates:
            condition |= Q(subscriber__phone__in=candidates) | Q(
                subscriber__phone_alt__in=candidates
            )
        elif len(digits) >= 5:  # a part of a number, e.g. the last digits
            condition |= Q(subscriber__phone__contains=digits) | Q(
                subscriber__phone_alt__contains=digits
            )
        if digits == query:
            condition |= Q(number=digits)
        if len(digits) == PASSPORT_DIGITS:
            condition |= Q(subscriber__passport_digest=passport_digest(digits))
    if not phone_like or len(digits) < 10:
        terms = [
            word
            for word in (w.strip(".,;:()\"'«»") for w in re.split(r"[\s,]+", query))
            if word and word.lower().rstrip(".") not in _ADDRESS_WORDS
        ]
        if terms:
            words = Q()
            for term in terms:
                words &= _term(term)
            condition |= words
    return list(
        Contract.objects.select_related("subscriber", "address", "tariff")
        .filter(condition)
        .order_by("subscriber__last_name", "subscriber__first_name", "number")[
            : max(1, min(limit, 200))
        ]
    )
