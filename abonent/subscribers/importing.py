"""Moving subscribers in from another billing system: a CSV of contracts, people,
addresses, tariffs, balances and PPPoE credentials, checked row by row and loaded all
or nothing.

The file (UTF-8 with or without BOM, or Windows-1251; ";" or "," between fields) starts
with a header naming its columns, in any order (COLUMNS; the optional ones may be left
out):

    contract_number;last_name;first_name;middle_name;phone;email;street;house;building;
    flat;tariff_code;balance_rub;signed_on;status;pppoe_login;pppoe_password

`check` reads every row and reports every error by line and column without writing;
`load` checks again under the contract number counter's lock and, only if nothing is
wrong, writes everything in one transaction with bulk inserts: cabinet users,
subscribers, addresses, contracts with their own numbers (the counter then moves past
the highest), accounts with an opening-balance ledger entry, PPPoE credentials, the
RADIUS decision table and the audit rows.

Cabinet passwords: one Argon2id hash with our parameters takes ~20 ms here, so 10,000
of them would take minutes, and the printed passwords would have to reach 10,000
people anyway. Imported logins therefore get no usable password (and
`password_change_required`): subscribers set their own through “Forgot password?”
(a code to the imported phone) or get a temporary one from the hotline.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts import passwords
from abonent.accounts.models import User
from abonent.accounts.permissions import require_action
from abonent.billing.models import Account, LedgerEntry
from abonent.catalog.models import ChargingMode, Tariff
from abonent.core import clock, phones
from abonent.core.context import Actor
from abonent.core.models import AuditLog
from abonent.core.money import Money, MoneyParseError
from abonent.network import grants
from abonent.network.models import Credential

from . import services
from .models import Address, Contract, Subscriber

# (name, required, max length)
COLUMNS: list[tuple[str, bool, int]] = [
    ("contract_number", True, 12),
    ("last_name", True, 100),
    ("first_name", True, 100),
    ("middle_name", False, 100),
    ("phone", True, 40),
    ("email", False, 254),
    ("street", True, 200),
    ("house", True, 20),
    ("building", False, 20),
    ("flat", False, 20),
    ("tariff_code", True, 50),
    ("balance_rub", True, 20),
    ("signed_on", True, 10),
    ("status", False, 16),
    ("pppoe_login", False, 64),
    ("pppoe_password", False, 64),
]
COLUMN_NAMES = [name for name, _required, _max in COLUMNS]
REQUIRED = {name for name, required, _max in COLUMNS if required}
MAX_LENGTH = {name: limit for name, _required, limit in COLUMNS}
HEADER = ";".join(COLUMN_NAMES)

# A suspension needs its dates and fee from this system's own rules: such contracts are
# imported active and suspended in the back office.
STATUSES = [
    str(s.value)
    for s in (Contract.Status.ACTIVE, Contract.Status.BLOCKED_DEBT, Contract.Status.TERMINATED)
]
MAX_ROWS = 200_000
CHUNK = 5000  # rows per bulk insert (as in demo.py)
EARLIEST_SIGNED = dt.date(1990, 1, 1)
NUMBER_RE = re.compile(r"^[1-9][0-9]{0,11}$")
LOGIN_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")

# Every message a report can hold, by code; translated when shown.
MESSAGES: dict[str, str | Promise] = {
    "file_empty": _("The file is empty."),
    "file_not_text": _("This is not a CSV text file."),
    "file_encoding": _("The file is neither UTF-8 nor Windows-1251 text."),
    "file_broken": _(
        "The CSV cannot be read from this line on (unbalanced quotes or an over-long field)."
    ),
    "file_too_many_rows": _("The file has more than %(max)s rows: split it into parts."),
    "file_no_rows": _("The file has a header but no subscribers."),
    "header_unknown": _("The first line must be the header; unknown columns: %(columns)s."),
    "header_missing": _("Required columns are missing from the header: %(columns)s."),
    "header_duplicate": _("The column appears twice in the header."),
    "row_fields": _(
        "The row has %(found)s fields, the header %(expected)s (check the separator and quotes)."
    ),
    "required": _("This field is required."),
    "too_long": _("At most %(max)s characters."),
    "control": _("The value contains control characters."),
    "number_format": _("A contract number is up to 12 digits and does not start with 0."),
    "number_duplicate": _("Contract number %(number)s is already on line %(line)s."),
    "number_exists": _("Contract %(number)s already exists."),
    "phone": _("Enter a valid phone number, e.g. +7 900 123-45-67."),
    "email": _("Enter a valid e-mail address."),
    "tariff": _("Unknown tariff code “%(code)s”."),
    "money": _("Enter an amount in roubles, e.g. 1 234,56 or -500."),
    "date": _("Enter a date as YYYY-MM-DD or DD.MM.YYYY."),
    "date_range": _("The date must be between 01.01.1990 and today."),
    "status": _("The status must be one of: %(statuses)s."),
    "blocked_not_in_debt": _("A contract blocked for debt needs a negative balance."),
    "login_format": _("A PPPoE login is 1 to 64 Latin letters, digits and . _ - @."),
    "login_duplicate": _("PPPoE login %(login)s is already on line %(line)s."),
    "login_exists": _("PPPoE login %(login)s is already in use."),
}
PASSWORD_NOTE = _(
    "Cabinet logins are created without a password: subscribers set their own through "
    "“Forgot password?” (a code to the phone from the file) or get a temporary one from "
    "the hotline."
)


@dataclass(frozen=True)
class RowError:
    line: int  # physical line in the file, 1 = the header; 0 = the file as a whole
    column: str  # a header name, or "" for the whole row or file
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""

    @property
    def message(self) -> str:
        text = str(MESSAGES[self.code])
        return text % self.params if self.params else text


@dataclass(frozen=True)
class ImportRow:
    line: int
    number: str
    last_name: str
    first_name: str
    middle_name: str
    phone: str  # E.164
    email: str
    street: str
    house: str
    building: str
    flat: str
    tariff: Tariff
    balance: int  # kopecks
    signed_on: dt.date
    status: str
    login: str
    password: str  # "" = generate


@dataclass
class Report:
    rows: list[ImportRow] = field(default_factory=list)  # the rows without errors
    errors: list[RowError] = field(default_factory=list)
    row_count: int = 0  # data rows read
    encoding: str = "utf-8"
    delimiter: str = ";"
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def error_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def add(self, line: int, column: str, code: str, value: str = "", /, **params: Any) -> None:
        self.errors.append(RowError(line, column, code, params, value[:60]))


@dataclass(frozen=True)
class Result:
    report: Report
    batch: str = ""
    created: int = 0
    highest_number: int | None = None
    radius_rows: int = 0
    seconds: float = 0.0

    @property
    def loaded(self) -> bool:
        return self.created > 0


# --- reading -------------------------------------------------------------------------


def decode(data: bytes | str) -> tuple[str, str]:
    """The text and the encoding it was read in: UTF-8 (a BOM is dropped), else
    Windows-1251, which Excel in Russian saves by default."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), "utf-8"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"  # may raise UnicodeDecodeError too


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "," if first.count(",") > first.count(";") else ";"


class BrokenCsv(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of each non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    end = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise BrokenCsv(end + 1) from None
        start, end = end + 1, reader.line_num
        if any(f.strip() for f in fields):
            yield start, fields


def _has_control(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def _parse_date(value: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def check(data: bytes | str) -> Report:
    """Read and validate every row; writes nothing. `rows` holds the good rows, ready
    for `load`; `errors` every problem with its line and column."""
    report = Report()
    raw = data.encode() if isinstance(data, str) else data
    report.sha256 = hashlib.sha256(raw).hexdigest()
    try:
        text, report.encoding = decode(data)
    except UnicodeDecodeError:
        report.add(0, "", "file_encoding")
        return report
    if "\x00" in text:
        report.add(0, "", "file_not_text")
        return report
    if not text.strip():
        report.add(0, "", "file_empty")
        return report
    report.delimiter = _delimiter(text)
    try:
        parsed = _parse(text, report)
    except BrokenCsv as exc:
        report.add(exc.line, "", "file_broken")
        return report
    if parsed is None:
        return report
    if not report.row_count:
        report.add(0, "", "file_no_rows")
        return report
    _validate(parsed, report)
    return report


def _parse(text: str, report: Report) -> list[tuple[int, dict[str, str]]] | None:
    """The header, then each data row as {column: stripped value}. Header problems and
    rows of the wrong width are reported here; None when the rows cannot be read."""
    records = _records(text, report.delimiter)
    first = next(records, None)
    if first is None:  # only blank records, e.g. an empty sheet saved as CSV
        report.add(0, "", "file_empty")
        return None
    header_line, header = first
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:
        names.pop()  # trailing separators after the last column
    unknown = [(n or '""')[:30] for n in names if n not in COLUMN_NAMES]
    if unknown:
        shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
        report.add(header_line, "", "header_unknown", columns=shown)
    for name in COLUMN_NAMES:
        if names.count(name) > 1:
            report.add(header_line, name, "header_duplicate")
    missing = [n for n in COLUMN_NAMES if n in REQUIRED and n not in names]
    if missing:
        report.add(header_line, "", "header_missing", columns=", ".join(missing))
    if report.errors:
        return None
    parsed = []
    for line, fields in records:
        report.row_count += 1
        if report.row_count > MAX_ROWS:
            report.add(line, "", "file_too_many_rows", max=MAX_ROWS)
            return None
        if len(fields) > len(names) and not any(f.strip() for f in fields[len(names) :]):
            fields = fields[: len(names)]  # Excel's trailing separators
        if len(fields) != len(names):
            report.add(line, "", "row_fields", found=len(fields), expected=len(names))
            continue
        parsed.append((line, {n: f.strip() for n, f in zip(names, fields, strict=True)}))
    return parsed


def _validate(parsed: list[tuple[int, dict[str, str]]], report: Report) -> None:
    tariffs = {t.code: t for t in Tariff.objects.all()}
    today = clock.today()
    # (line, cells, parsed values or None when the row has an error)
    checked: list[tuple[int, dict[str, str], dict[str, Any] | None]] = []
    for line, cells in parsed:
        errors_before = len(report.errors)
        values = _check_row(line, cells, report, tariffs, today)
        checked.append((line, cells, values if len(report.errors) == errors_before else None))

    # Contract numbers: repeated in the file (the later lines are reported, pointing at
    # the first), or already taken in the database (contracts and cabinet logins).
    first_line: dict[str, int] = {}
    number_ok: dict[int, bool] = {}
    for line, cells, _values in checked:
        number = cells.get("contract_number", "")
        if not NUMBER_RE.match(number):
            continue
        if number in first_line:
            report.add(
                line,
                "contract_number",
                "number_duplicate",
                number,
                number=number,
                line=first_line[number],
            )
            number_ok[line] = False
        else:
            first_line[number] = line
            number_ok[line] = True
    numbers = list(first_line)
    taken = _existing(Contract, "number", numbers) | _existing(User, "username", numbers)
    for number in sorted(taken & set(first_line)):
        line = first_line[number]
        report.add(line, "contract_number", "number_exists", number, number=number)
        number_ok[line] = False

    # PPPoE logins (the contract number when none is given), compared ignoring case. A
    # login taken from a number that is itself wrong would only repeat that error.
    login_line: dict[str, int] = {}
    for line, cells, _values in checked:
        given = cells.get("pppoe_login", "")
        login = given or cells.get("contract_number", "")
        if (given and not LOGIN_RE.match(given)) or (not given and not number_ok.get(line)):
            continue
        key = login.lower()
        if key in login_line:
            report.add(
                line,
                "pppoe_login",
                "login_duplicate",
                login,
                login=login,
                line=login_line[key],
            )
        else:
            login_line[key] = line
    cells_at = {line: cells for line, cells, _values in checked}
    for key in sorted(_existing_logins(list(login_line))):
        line = login_line[key]
        login = cells_at[line].get("pppoe_login") or cells_at[line]["contract_number"]
        report.add(line, "pppoe_login", "login_exists", login, login=login)

    bad_lines = {e.line for e in report.errors}
    for line, cells, good in checked:
        if line in bad_lines or good is None:
            continue
        report.rows.append(
            ImportRow(
                line=line,
                number=cells["contract_number"],
                last_name=cells["last_name"],
                first_name=cells["first_name"],
                middle_name=cells.get("middle_name", ""),
                phone=good["phone"],
                email=cells.get("email", ""),
                street=cells["street"],
                house=cells["house"],
                building=cells.get("building", ""),
                flat=cells.get("flat", ""),
                tariff=good["tariff"],
                balance=good["balance"],
                signed_on=good["signed_on"],
                status=good["status"],
                login=cells.get("pppoe_login") or cells["contract_number"],
                password=cells.get("pppoe_password", ""),
            )
        )
    report.errors.sort(key=lambda e: (e.line, COLUMN_NAMES.index(e.column) if e.column else -1))


def _check_row(
    line: int, cells: dict[str, str], report: Report, tariffs: dict[str, Tariff], today: dt.date
) -> dict[str, Any]:
    """Every check of one row that needs no other row; the parsed values."""
    usable: set[str] = set()
    for name in COLUMN_NAMES:
        value = cells.get(name, "")
        if not value:
            if name in REQUIRED:
                report.add(line, name, "required")
        elif len(value) > MAX_LENGTH[name]:
            report.add(line, name, "too_long", value, max=MAX_LENGTH[name])
        elif _has_control(value):
            report.add(line, name, "control", value.encode("unicode_escape").decode())
        else:
            usable.add(name)
    values: dict[str, Any] = {}
    if "contract_number" in usable and not NUMBER_RE.match(cells["contract_number"]):
        report.add(line, "contract_number", "number_format", cells["contract_number"])
    if "phone" in usable:
        try:
            values["phone"] = phones.normalize(cells["phone"])
        except phones.InvalidPhone:
            report.add(line, "phone", "phone", cells["phone"])
    if "email" in usable:
        try:
            validate_email(cells["email"])
        except DjangoValidationError:
            report.add(line, "email", "email", cells["email"])
    tariff = None
    if "tariff_code" in usable:
        code = cells["tariff_code"]
        tariff = tariffs.get(code) or tariffs.get(code.lower())
        if tariff is None:
            report.add(line, "tariff_code", "tariff", code, code=code)
        values["tariff"] = tariff
    if "balance_rub" in usable:
        amount = cells["balance_rub"].replace("\u2212", "-")  # a typographic minus
        try:
            values["balance"] = Money.parse(amount, tariff.currency if tariff else "RUB").kopecks
        except MoneyParseError:
            report.add(line, "balance_rub", "money", cells["balance_rub"])
    if "signed_on" in usable:
        signed_on = _parse_date(cells["signed_on"])
        if signed_on is None:
            report.add(line, "signed_on", "date", cells["signed_on"])
        elif not EARLIEST_SIGNED <= signed_on <= today:
            report.add(line, "signed_on", "date_range", cells["signed_on"])
        values["signed_on"] = signed_on
    status = (cells.get("status") or Contract.Status.ACTIVE.value).lower()
    if "status" in usable and status not in STATUSES:
        report.add(line, "status", "status", cells["status"], statuses=", ".join(STATUSES))
    values["status"] = status
    if status == Contract.Status.BLOCKED_DEBT and values.get("balance", -1) >= 0:
        report.add(line, "status", "blocked_not_in_debt", cells.get("status", ""))
    if "pppoe_login" in usable and not LOGIN_RE.match(cells["pppoe_login"]):
        report.add(line, "pppoe_login", "login_format", cells["pppoe_login"])
    return values


def _existing(model: Any, field_name: str, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), CHUNK):
        found.update(
            model.objects.filter(
                **{f"{field_name}__in": values[start : start + CHUNK]}
            ).values_list(field_name, flat=True)
        )
    return found


def _existing_logins(lowered: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(lowered), CHUNK):
        found.update(
            Credential.objects.annotate(key=Lower("login"))
            .filter(key__in=lowered[start : start + CHUNK])
            .values_list("key", flat=True)
        )
    return found


# --- loading -------------------------------------------------------------------------


def load(data: bytes | str, actor: Actor, *, source: str = "") -> Result:
    """Check, then load every row in one transaction, or nothing at all. Administrators
    only. The contract number counter stays locked for the whole load, so a contract
    created meanwhile waits and then takes a number past the imported ones."""
    require_action(actor, "import")
    started = time.perf_counter()
    with transaction.atomic():
        services.reserve_contract_numbers_through(0)  # takes the counter's row lock
        report = check(data)
        if not report.ok:
            transaction.set_rollback(True)  # not even the counter row is written
            return Result(report=report, seconds=time.perf_counter() - started)
        batch = f"{clock.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        contract_ids: list[int] = []
        for start in range(0, len(report.rows), CHUNK):
            contract_ids += _load_chunk(report.rows[start : start + CHUNK], batch, actor)
        highest = max(int(row.number) for row in report.rows)
        services.reserve_contract_numbers_through(highest)
        changes = grants.sync(contract_ids)
        AuditLog.objects.create(
            actor=actor.user,
            channel=actor.channel,
            ip=actor.ip,
            user_agent=actor.user_agent,
            action="subscribers.imported",
            object_type="subscribers.import",
            object_id=batch,
            after={
                "contracts": len(contract_ids),
                "highest_number": highest,
                "balance_total": sum(row.balance for row in report.rows),
                "file_sha256": report.sha256,
                "source": source[:200],
                "encoding": report.encoding,
            },
        )
    return Result(
        report=report,
        batch=batch,
        created=len(contract_ids),
        highest_number=highest,
        radius_rows=changes.added,
        seconds=time.perf_counter() - started,
    )


def _load_chunk(rows: list[ImportRow], batch: str, actor: Actor) -> list[int]:
    today = clock.today()
    users = [
        User(
            username=row.number,
            kind=User.Kind.SUBSCRIBER,
            password=make_password(None),  # unusable: see the module docstring
            password_change_required=True,
        )
        for row in rows
    ]
    people = [
        Subscriber(
            last_name=row.last_name,
            first_name=row.first_name,
            middle_name=row.middle_name,
            phone=row.phone,
            email=row.email,
        )
        for row in rows
    ]
    places = [
        Address(street=row.street, house=row.house, building=row.building, flat=row.flat)
        for row in rows
    ]
    User.objects.bulk_create(users)
    Subscriber.objects.bulk_create(people)
    Address.objects.bulk_create(places)
    contracts = [
        Contract(
            number=row.number,
            subscriber=person,
            address=place,
            user=user,
            tariff=row.tariff,
            status=row.status,
            signed_on=row.signed_on,
            # The old system's date is not in the file: terminated as of the import.
            terminated_on=today if row.status == Contract.Status.TERMINATED else None,
        )
        for row, user, person, place in zip(rows, users, people, places, strict=True)
    ]
    Contract.objects.bulk_create(contracts)
    accounts = [
        Account(
            contract=contract,
            currency=row.tariff.currency,
            balance=row.balance,
            debt_since=today if row.balance < 0 else None,
            # The previous system charged the current period (its balance is net of
            # it): charging here starts with the next one.
            billing_starts_on=_next_period(today, row.tariff.charging_mode),
        )
        for row, contract in zip(rows, contracts, strict=True)
    ]
    Account.objects.bulk_create(accounts)
    description = gettext("Opening balance from the previous billing system")
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            account=account,
            kind=LedgerEntry.Kind.CORRECTION,
            amount=row.balance,
            currency=account.currency,
            idempotency_key=f"import:{batch}:{row.number}",
            description=description,
            effective_date=today,
            created_by=actor.user,
        )
        for row, account in zip(rows, accounts, strict=True)
        if row.balance
    )
    Credential.objects.bulk_create(
        Credential(
            contract=contract,
            login=row.login,
            password=row.password or passwords.generate(8),  # as issue_credential
        )
        for row, contract in zip(rows, contracts, strict=True)
    )
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=actor.user,
            channel=actor.channel,
            ip=actor.ip,
            user_agent=actor.user_agent,
            action="contract.imported",
            object_type=Contract._meta.label_lower,
            object_id=str(contract.pk),
            contract_id=contract.pk,
            after={
                "number": contract.number,
                "tariff": row.tariff.code,
                "status": row.status,
                "balance": row.balance,
                "subscriber": contract.subscriber_id,
                "batch": batch,
                "line": row.line,
            },
        )
        for row, contract in zip(rows, contracts, strict=True)
    )
    return [contract.pk for contract in contracts]


def _next_period(today: dt.date, mode: str) -> dt.date:
    if mode == ChargingMode.MONTHLY:
        return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return today + dt.timedelta(days=1)
