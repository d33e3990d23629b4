"""Import from another billing system: every error reported by line and column with
nothing written; a clean file of 10,000 subscribers loaded in one transaction, in
seconds, with balances on the ledger, the number counter moved past the imported
numbers and the RADIUS table filled; a second load of the same file refused."""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from abonent.accounts.models import User
from abonent.billing.models import Account, LedgerEntry
from abonent.billing.selectors import mismatched_balances
from abonent.catalog.models import ChargingMode, Tariff
from abonent.core.context import Actor
from abonent.core.errors import Forbidden
from abonent.core.models import AuditLog
from abonent.network.models import Credential, RadiusAttribute
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.subscribers import importing
from abonent.subscribers.models import Contract, Subscriber
from abonent.subscribers.services import allocate_contract_numbers

pytestmark = pytest.mark.django_db

FIRST = 5_000_001
HEADER = importing.HEADER
STREETS = ["Невский пр.", "ул. Садовая", "Московский пр.", "ул. Марата"]
LAST = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев"]
FIRST_NAMES = ["Алексей", "Мария", "Сергей", "Анна", "Иван"]


@pytest.fixture
def tariffs(db):
    made = {}
    for code, price, archived in (
        ("start-100", 450_00, False),
        ("optimum-300", 650_00, False),
        ("classic-50", 350_00, True),  # archived: existing subscribers keep it
    ):
        made[code] = Tariff.objects.create(
            code=code,
            name=code,
            monthly_price=price,
            charging_mode=ChargingMode.DAILY,
            speed_in_mbps=100,
            speed_out_mbps=100,
            is_archived=archived,
        )
    return made


@pytest.fixture
def admin(staff_user):
    staff_user.role = User.Role.ADMIN
    staff_user.is_superuser = False
    staff_user.save()
    return staff_user


def phone(i: int) -> str:
    digits = f"921{i:07d}"
    forms = [
        f"+7{digits}",
        f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}",
        f"+7 {digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}",
        digits,
    ]
    return forms[i % len(forms)]


def balance(i: int) -> tuple[str, int]:
    """(as written in the file, kopecks): the spellings an export really has."""
    kopecks = ((i * 7919) % 300_000) - 50_000  # −500 ₽ … 2 500 ₽
    if i % 10 == 3:
        kopecks = -(50_000 + i % 7 * 100)  # a debt in whole roubles: "-500"
        return str(kopecks // 100), kopecks
    if i % 17 == 0:
        return "0", 0
    whole, frac = divmod(abs(kopecks), 100)
    sign = "-" if kopecks < 0 else ""
    text = f"{whole:,}".replace(",", " ") + f",{frac:02d}"  # "1 234,56"
    if i % 3 == 0:
        text = f"{whole}.{frac:02d}"
    return sign + text, kopecks


def status(i: int) -> str:
    if i % 50 == 7:
        return "terminated"
    if i % 10 == 3:
        return "blocked_debt"
    return "active" if i % 2 else ""  # empty: active


def make_rows(count: int, first: int = FIRST) -> tuple[list[str], dict[str, int]]:
    """Deterministic data rows (without the header) and the expected balances."""
    rows, balances = [], {}
    for i in range(count):
        number = str(first + i)
        text, kopecks = balance(i)
        signed = dt.date(2015, 1, 1) + dt.timedelta(days=i % 3000)
        login, password = ("", "")
        if i % 20 == 5:
            login, password = f"pppoe.{number}", f"pw-{i}"
        cells = [
            number,
            LAST[i % len(LAST)],
            FIRST_NAMES[i % len(FIRST_NAMES)],
            "Петрович" if i % 4 else "",
            phone(i),
            f"user{i}@example.ru" if i % 3 == 0 else "",
            STREETS[i % len(STREETS)],
            str(1 + i % 150),
            str(1 + i % 3) if i % 5 == 0 else "",
            str(1 + i % 300),
            ("start-100", "optimum-300", "classic-50")[i % 3],
            text,
            signed.isoformat() if i % 2 else signed.strftime("%d.%m.%Y"),
            status(i),
            login,
            password,
        ]
        rows.append(";".join(cells))
        balances[number] = kopecks
    return rows, balances


def csv_text(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def line_of(index: int) -> int:
    return index + 2  # the header is line 1


def counts() -> tuple[int, ...]:
    return (
        Contract.objects.count(),
        Subscriber.objects.count(),
        User.objects.count(),
        Account.objects.count(),
        LedgerEntry.objects.count(),
        Credential.objects.count(),
        RadiusAttribute.objects.count(),
        AuditLog.objects.count(),
    )


def replace(row: str, column: str, value: str) -> str:
    cells = row.split(";")
    cells[importing.COLUMN_NAMES.index(column)] = value
    return ";".join(cells)


# --- the 10,000-row file -------------------------------------------------------------


def test_ten_thousand_rows_errors_then_clean_load_then_refused_again(tariffs, admin, capsys):
    rows, balances = make_rows(10_000)
    actor = Actor(user=admin, channel="cli")

    # A few broken rows: the report names exactly those lines, and nothing is written.
    broken = list(rows)
    broken[99] = replace(rows[99], "tariff_code", "super-9000")
    broken[2000] = replace(rows[2000], "phone", "12-34")
    broken[5001] = replace(rows[5001], "contract_number", str(FIRST + 8))
    broken[7002] = replace(rows[7002], "signed_on", "31.02.2020")
    broken[9997] = replace(rows[9997], "balance_rub", "12,34,56")
    before = counts()
    started = time.perf_counter()
    report = importing.check(csv_text(broken))
    checked_in = time.perf_counter() - started
    expected = {
        (line_of(99), "tariff_code", "tariff"),
        (line_of(2000), "phone", "phone"),
        (line_of(5001), "contract_number", "number_duplicate"),
        (line_of(7002), "signed_on", "date"),
        (line_of(9997), "balance_rub", "money"),
    }
    assert {(e.line, e.column, e.code) for e in report.errors} == expected
    assert report.error_lines == sorted(line for line, _c, _k in expected)
    assert report.row_count == 10_000
    duplicate = next(e for e in report.errors if e.code == "number_duplicate")
    assert str(FIRST + 8) in duplicate.message
    assert str(line_of(8)) in duplicate.message
    result = importing.load(csv_text(broken), actor)
    assert not result.loaded
    assert len(result.report.errors) == 5
    assert counts() == before

    # Fixed: everything in, in one go.
    text = csv_text(rows)
    started = time.perf_counter()
    result = importing.load(text, actor, source="old-billing.csv")
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nimport of 10,000 rows: check {checked_in:.2f} s, "
            f"load (check + write + RADIUS) {seconds:.2f} s"
        )
    assert result.loaded, result.report.errors[:5]
    assert result.created == 10_000
    assert seconds < 60

    numbers = list(balances)
    contracts = Contract.objects.filter(number__in=numbers)
    assert contracts.count() == 10_000
    assert (
        dict(
            Account.objects.filter(contract__number__in=numbers).values_list(
                "contract__number", "balance"
            )
        )
        == balances
    )
    assert mismatched_balances() == []
    call_command("check_balances")
    entries = LedgerEntry.objects.filter(idempotency_key__startswith=f"import:{result.batch}:")
    assert entries.count() == sum(1 for k in balances.values() if k)
    assert set(entries.values_list("kind", flat=True)) == {LedgerEntry.Kind.CORRECTION}
    assert (
        LedgerEntry.objects.filter(idempotency_key=f"import:{result.batch}:{FIRST + 1}")
        .get()
        .amount
        == balances[str(FIRST + 1)]
    )
    assert Account.objects.filter(balance__lt=0, debt_since__isnull=True).count() == 0

    # The counter moved past the imported numbers: the next contract never collides.
    assert result.highest_number == FIRST + 9_999
    assert allocate_contract_numbers(1) == [str(FIRST + 10_000)]

    # Statuses, people, logins as in the file.
    statuses = dict(contracts.values_list("number", "status"))
    assert statuses[str(FIRST + 7)] == "terminated"
    assert statuses[str(FIRST + 4)] == "active"
    assert statuses[str(FIRST + 3)] == "blocked_debt"
    assert statuses[str(FIRST + 0)] == "active"
    first = Contract.objects.select_related("subscriber", "address", "tariff", "user").get(
        number=str(FIRST + 1)
    )
    assert first.subscriber.phone == "+79210000001"
    assert first.subscriber.full_name == "Смирнова Мария Петрович"
    assert (first.address.street, first.address.house, first.address.flat) == (
        "ул. Садовая",
        "2",
        "2",
    )
    assert first.tariff.code == "optimum-300"
    assert first.signed_on == dt.date(2015, 1, 2)
    assert first.user.kind == User.Kind.SUBSCRIBER
    assert first.user.password_change_required
    assert not first.user.has_usable_password()
    assert Contract.objects.get(number=str(FIRST + 2)).tariff.code == "classic-50"
    given = Credential.objects.get(contract__number=str(FIRST + 5))
    assert (given.login, given.password) == (f"pppoe.{FIRST + 5}", "pw-5")
    generated = Credential.objects.get(contract__number=str(FIRST + 1))
    assert generated.login == str(FIRST + 1)
    assert len(generated.password) == 8

    # RADIUS: rows for every login that may connect (active, walled garden for debt),
    # none for suspended or terminated contracts.
    with_rows = set(
        RadiusAttribute.objects.filter(contract__number__in=numbers).values_list(
            "contract__number", flat=True
        )
    )
    may_connect = {n for n, s in statuses.items() if s in ("active", "blocked_debt")}
    assert with_rows == may_connect

    # Audit: one row for the batch, one per contract (its history starts with the import).
    batch = AuditLog.objects.get(action="subscribers.imported")
    assert batch.actor == admin
    assert batch.object_id == result.batch
    logged = batch.after or {}
    assert logged["contracts"] == 10_000
    assert logged["source"] == "old-billing.csv"
    assert AuditLog.objects.filter(action="contract.imported").count() == 10_000

    # The same file again: every contract number already exists, nothing written.
    after = counts()
    again = importing.check(text)
    exists = {e.line for e in again.errors if e.code == "number_exists"}
    assert exists == {line_of(i) for i in range(10_000)}
    assert not again.rows
    assert not importing.load(text, actor).loaded
    assert counts() == after


def test_load_is_one_transaction(tariffs, admin):
    rows, _balances = make_rows(30)
    before = counts()
    with (
        mock.patch.object(importing.grants, "sync", side_effect=RuntimeError("RADIUS down")),
        pytest.raises(RuntimeError),
    ):
        importing.load(csv_text(rows), Actor(user=admin, channel="cli"))
    assert counts() == before
    assert allocate_contract_numbers(1) != [str(FIRST + 30)]


# --- reading and validation ------------------------------------------------------------


def test_comma_separated_windows_1251_with_optional_columns_left_out(tariffs, admin):
    text = (
        "contract_number,last_name,first_name,phone,street,house,flat,tariff_code,"
        "balance_rub,signed_on\r\n"
        '123,Ёлкина,Ольга,8 921 555-44-33,"пр. Просвещения",12,7,start-100,"1 234,56",01.03.2019\r\n'
        "124,Щукин,Пётр,+79215554434,ул. Бассейная,1,,START-100,-500,2020-12-31\r\n"
    )
    report = importing.check(text.encode("cp1251"))
    assert report.encoding == "cp1251"
    assert report.delimiter == ","
    assert report.errors == []
    assert [(r.number, r.balance, r.phone, r.status) for r in report.rows] == [
        ("123", 123_456, "+79215554433", "active"),
        ("124", -50_000, "+79215554434", "active"),
    ]
    result = importing.load(text.encode("cp1251"), Actor(user=admin, channel="cli"))
    assert result.created == 2
    contract = Contract.objects.select_related("subscriber").get(number="123")
    assert contract.subscriber.last_name == "Ёлкина"
    assert contract.account.balance == 123_456


def test_utf8_with_bom_and_excel_trailing_separators(tariffs):
    rows, _ = make_rows(2)
    text = "\ufeff" + HEADER + ";;\n" + "\n".join(r + ";;" for r in rows) + "\n\n"
    report = importing.check(text.encode("utf-8"))
    assert report.encoding == "utf-8"
    assert report.errors == []
    assert len(report.rows) == 2


def test_every_kind_of_row_error_is_reported_with_its_column(tariffs, make_contract):
    existing = make_contract().contract
    rows, _ = make_rows(12)
    rows[0] = replace(rows[0], "last_name", "")
    rows[1] = replace(rows[1], "status", "frozen")
    rows[2] = replace(rows[2], "email", "not-an-email")
    rows[3] = replace(rows[3], "contract_number", "012345")
    rows[4] = replace(rows[4], "contract_number", existing.number)
    rows[5] = replace(rows[5], "pppoe_login", existing.number)  # taken by the contract above
    rows[6] = replace(rows[6], "pppoe_login", "pppoe.x")
    rows[7] = replace(rows[7], "pppoe_login", "PPPOE.X")  # the same login, other case
    rows[8] = replace(rows[8], "pppoe_login", "имя с пробелом")
    rows[9] = replace(rows[9], "signed_on", "2999-01-01")
    rows[10] = rows[10] + ";extra"
    rows[11] = replace(rows[11], "flat", "1" * 21)
    report = importing.check(csv_text(rows))
    found = {(e.line, e.column, e.code) for e in report.errors}
    assert found == {
        (2, "last_name", "required"),
        (3, "status", "status"),
        (4, "email", "email"),
        (5, "contract_number", "number_format"),
        (6, "contract_number", "number_exists"),
        (7, "pppoe_login", "login_exists"),
        (9, "pppoe_login", "login_duplicate"),
        (10, "pppoe_login", "login_format"),
        (11, "signed_on", "date_range"),
        (12, "", "row_fields"),
        (13, "flat", "too_long"),
    }
    assert len(report.rows) == 1  # line 8 (the first "pppoe.x") is fine
    for error in report.errors:
        assert error.message  # every code has a message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "file_empty"),
        (HEADER + "\n", "file_no_rows"),
        ("contract_number;last_name\n1;Иванов\n", "header_missing"),
        (HEADER + ";colour\n", "header_unknown"),
        (HEADER + '\n1;"unclosed\n', "file_broken"),
    ],
)
def test_file_level_errors(tariffs, text, code):
    report = importing.check(text)
    assert [e.code for e in report.errors] == [code]
    assert not report.ok


def test_binary_and_undecodable_files_are_refused(tariffs):
    assert importing.check(b"\x00\x01PK\x03\x04").errors[0].code == "file_not_text"
    assert importing.check(b"\x98\x98\xff").errors[0].code == "file_encoding"


def test_load_needs_an_administrator(tariffs, staff_user):
    rows, _ = make_rows(2)
    with pytest.raises(Forbidden):
        importing.load(csv_text(rows), Actor(user=staff_user, channel="cli"))
    with pytest.raises(Forbidden):
        importing.load(csv_text(rows), Actor.system("cli"))
    assert not Contract.objects.exists()


# --- the command ------------------------------------------------------------------------


def test_command_check_exit_code_and_load(tariffs, admin, tmp_path, capsys):
    rows, _ = make_rows(20)
    good = tmp_path / "good.csv"
    good.write_text(csv_text(rows), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text([*rows[:3], replace(rows[3], "phone", "0")]), encoding="utf-8")

    with pytest.raises(CommandError) as failed:
        call_command("import_subscribers", str(bad), "--check")
    assert failed.value.returncode == 1
    assert "line 5, phone" in capsys.readouterr().err

    call_command("import_subscribers", str(good), "--check")
    assert "20 row(s) can be loaded" in capsys.readouterr().out
    assert not Contract.objects.exists()

    with pytest.raises(CommandError, match="--as"):
        call_command("import_subscribers", str(good))
    call_command("import_subscribers", str(good), "--as", admin.username)
    assert "Loaded 20 contract(s)" in capsys.readouterr().out
    assert Contract.objects.count() == 20

    with pytest.raises(CommandError) as again:
        call_command("import_subscribers", str(good), "--as", admin.username)
    assert again.value.returncode == 1
    assert Contract.objects.count() == 20


# --- the staff page ---------------------------------------------------------------------


URL = "/staff/import/"


def upload(client: Client, name: str, content: str, **extra: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")
    return client.post(URL, {"action": "check", "file": file, **extra})


def test_staff_page_reports_errors_then_loads_a_clean_file(tariffs, admin, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    client, _ = enrol(admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert HEADER in page.content.decode()

    rows, balances = make_rows(5)
    broken = [*rows[:2], replace(rows[2], "tariff_code", "nope"), *rows[3:]]
    response = upload(client, "old.csv", csv_text(broken))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="errors"' in html
    assert "nope" in html
    assert '<td class="num">4</td>' in html
    assert 'data-testid="load-form"' not in html
    assert not Contract.objects.exists()

    response = upload(client, "old.csv", csv_text(rows))
    html = response.content.decode()
    assert 'data-testid="load-form"' in html
    token = client.session[importing_session_key()]["token"]
    assert (tmp_path / "imports" / f"{token}.csv").exists()
    assert not Contract.objects.exists()

    # A forged token loads nothing.
    response = client.post(URL, {"action": "load", "token": "x" * 32})
    assert response.status_code == 302
    assert not Contract.objects.exists()

    response = client.post(URL, {"action": "load", "token": token})
    assert response.status_code == 302
    assert Contract.objects.count() == 5
    assert dict(Account.objects.values_list("contract__number", "balance")) == balances
    assert not (tmp_path / "imports" / f"{token}.csv").exists()
    assert importing_session_key() not in client.session
    html = client.get(URL).content.decode()
    assert "msg-success" in html  # "Loaded 5 contracts…"
    assert "msg-info" in html  # how the subscribers get a password
    assert 'data-testid="load-form"' not in html

    # A double submit finds nothing to load.
    response = client.post(URL, {"action": "load", "token": token})
    assert response.status_code == 302
    assert Contract.objects.count() == 5


def test_staff_page_refuses_large_files(tariffs, admin, settings, tmp_path, monkeypatch):
    from abonent.staff.views import imports

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    monkeypatch.setattr(imports, "MAX_UPLOAD", 100)
    client, _ = enrol(admin)
    rows, _ = make_rows(5)
    response = upload(client, "big.csv", csv_text(rows))
    assert response.status_code == 200
    assert 'data-testid="report"' not in response.content.decode()
    assert response.context["form"].errors["file"]


def test_staff_page_is_for_administrators_only(tariffs, staff_user):
    staff_user.role = User.Role.CASHIER
    staff_user.save()
    client, _ = enrol(staff_user)
    assert client.get(URL).status_code == 403
    rows, _ = make_rows(2)
    assert upload(client, "old.csv", csv_text(rows)).status_code == 403
    assert client.post(URL, {"action": "load", "token": "x" * 32}).status_code == 403
    assert not Contract.objects.exists()


def importing_session_key() -> str:
    from abonent.staff.views.imports import SESSION_KEY

    return SESSION_KEY


@pytest.mark.parametrize("text", [";;;\n", '""\n', ",,\n\n"])
def test_a_file_of_blank_records_is_reported_empty(db, text):
    report = importing.check(text)
    assert [e.code for e in report.errors] == ["file_empty"]


def test_an_imported_period_is_not_charged_again(tariffs, admin):
    """The previous system charged the current period; its balance is net of it. A
    monthly tariff is charged from the next month, a daily one from tomorrow."""
    import time_machine

    from abonent.billing.run import run_billing

    Tariff.objects.filter(code="optimum-300").update(charging_mode=ChargingMode.MONTHLY)
    text = (
        HEADER
        + "\n7000001;Петрова;Анна;;+79210000001;;ул. Садовая;1;;1;optimum-300;650;2020-01-01;;;\n"
        + "7000002;Сидоров;Иван;;+79210000002;;ул. Садовая;2;;2;start-100;100;2020-01-01;;;\n"
    )
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC), tick=False):
        importing.load(text, Actor(user=admin, channel="cli"))
        run_billing(dt.date(2026, 11, 20))
    charges = LedgerEntry.objects.filter(kind="charge")
    assert not charges.exists()
    with time_machine.travel(dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC), tick=False):
        run_billing(dt.date(2026, 11, 21))
    assert list(charges.values_list("idempotency_key", flat=True)) == ["sub:7000002:2026-11-21"]
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), tick=False):
        run_billing(dt.date(2026, 12, 1))
    assert charges.filter(idempotency_key="sub:7000001:2026-12", amount=-650_00).exists()
    assert not mismatched_balances()
