"""Demo data (api-v1.md, "Demo data"): idempotent, and bulk so that 100,000 subscribers
take about a minute on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.db import connection, transaction

from abonent.accounts.models import User
from abonent.billing.models import Account, LedgerEntry
from abonent.catalog.models import AddOn, ChargingMode, Tariff
from abonent.core import clock
from abonent.network import grants
from abonent.network.models import Credential, TrafficDaily

from .models import Address, Contract, ContractAddOn, Subscriber
from .services import reserve_contract_numbers_through

FIRST_NUMBER = 1000001
# The first few demo logins get real Argon2id hashes; the bulk rest a cheap PBKDF2 hash
# that verifies normally and is upgraded to Argon2id at the first login (security.md:
# old hashes upgrade on login). 100,000 Argon2id hashes would take an hour.
ARGON2_DEMO_COUNT = 20

TARIFFS = [
    # code, name, price (kopecks), mode, in, out, archived
    ("start-100", "Старт 100", 450_00, ChargingMode.DAILY, 100, 100, False),
    ("optimum-300", "Оптимум 300", 650_00, ChargingMode.DAILY, 300, 300, False),
    ("turbo-500", "Турбо 500", 850_00, ChargingMode.DAILY, 500, 500, False),
    ("giga-1000", "Гигабит", 1200_00, ChargingMode.MONTHLY, 1000, 1000, False),
    ("classic-50", "Классика 50 (архив)", 350_00, ChargingMode.DAILY, 50, 50, True),
]
ADDONS = [
    # code, name, price, billing, keeps charging while suspended
    ("static-ip", "Статический IP-адрес", 150_00, AddOn.Billing.RECURRING, True),
    ("tv", "Интерактивное ТВ", 299_00, AddOn.Billing.RECURRING, False),
    ("antivirus", "Антивирус", 99_00, AddOn.Billing.RECURRING, False),
    ("router-rent", "Аренда роутера", 100_00, AddOn.Billing.RECURRING, False),
    ("master-visit", "Выезд мастера", 500_00, AddOn.Billing.ONE_OFF, False),
]
STREETS = [
    "Невский пр.",
    "ул. Садовая",
    "Московский пр.",
    "ул. Марата",
    "Литейный пр.",
    "ул. Савушкина",
    "пр. Просвещения",
    "ул. Бассейная",
]
LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов"]
FIRST = ["Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Иван", "Николай", "Павел"]
MIDDLE = ["Алексеевич", "Дмитриевич", "Сергеевич", "Андреевич", "Михайлович", "Иванович"]
STAFF = [
    ("admin", "admin-demo", User.Role.ADMIN),
    ("operator", "operator-demo", User.Role.OPERATOR),
]
SPECIAL_STATUS = {
    1000002: Contract.Status.BLOCKED_DEBT,
    1000003: Contract.Status.SUSPENDED,
}


class _FastDemoHasher(PBKDF2PasswordHasher):
    iterations = 1000


def demo_password(number: int) -> str:
    return f"demo-{number}"


def demo_phone(index: int) -> str:
    return f"+7900{index:07d}"


def ensure_catalog() -> tuple[list[Tariff], dict[str, AddOn]]:
    tariffs = []
    for order, (code, name, price, mode, speed_in, speed_out, archived) in enumerate(TARIFFS):
        tariff, _ = Tariff.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "monthly_price": price,
                "charging_mode": mode,
                "speed_in_mbps": speed_in,
                "speed_out_mbps": speed_out,
                "is_archived": archived,
                "sort_order": order,
            },
        )
        tariffs.append(tariff)
    addons = {}
    for code, name, price, billing, keeps in ADDONS:
        addon, _ = AddOn.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "price": price,
                "billing": billing,
                "charges_while_suspended": keeps,
            },
        )
        addons[code] = addon
    return tariffs, addons


def ensure_staff() -> None:
    for username, password, role in STAFF:
        if not User.objects.filter(username=username).exists():
            User.objects.create_user(
                username,
                password,
                kind=User.Kind.STAFF,
                role=role,
                is_staff=True,
                is_superuser=role == User.Role.ADMIN,
                full_name=username.title(),
            )


@dataclass
class SeedResult:
    created: int
    existing: int


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_subscribers(
    count: int, *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> SeedResult:
    tariffs, addons = ensure_catalog()
    on_sale = [t for t in tariffs if not t.is_archived]
    wanted = list(range(FIRST_NUMBER, FIRST_NUMBER + count))
    have = {
        int(n)
        for n in Contract.objects.values_list("number", flat=True).iterator(chunk_size=20_000)
    }
    missing = [n for n in wanted if n not in have]
    today = clock.today()
    fast = _FastDemoHasher()
    for chunk in _chunks(missing, batch_size):
        with transaction.atomic():
            _create_batch(chunk, on_sale, addons, today, fast)
        if progress:
            progress(len(chunk))
    with transaction.atomic():
        reserve_contract_numbers_through(FIRST_NUMBER + count - 1)
    if connection.vendor == "postgresql" and len(missing) > 10_000:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics after a bulk load, as autovacuum would
    return SeedResult(created=len(missing), existing=len(have))


def _create_batch(
    numbers: list[int],
    tariffs: list[Tariff],
    addons: dict[str, AddOn],
    today: dt.date,
    fast: PBKDF2PasswordHasher,
) -> None:
    users, people, places = [], [], []
    for number in numbers:
        index = number - FIRST_NUMBER + 1
        password = demo_password(number)
        hashed = (
            make_password(password)
            if index <= ARGON2_DEMO_COUNT
            else fast.encode(password, secrets.token_hex(8))
        )
        users.append(User(username=str(number), kind=User.Kind.SUBSCRIBER, password=hashed))
        people.append(
            Subscriber(
                last_name=LAST[index % len(LAST)],
                first_name=FIRST[(index // 8) % len(FIRST)],
                middle_name=MIDDLE[(index // 64) % len(MIDDLE)],
                phone=demo_phone(index),
                email=f"subscriber{number}@example.ru" if index % 3 == 0 else "",
            )
        )
        places.append(
            Address(
                street=STREETS[index % len(STREETS)],
                house=str(1 + index % 120),
                flat=str(1 + index % 250),
            )
        )
    User.objects.bulk_create(users)
    Subscriber.objects.bulk_create(people)
    Address.objects.bulk_create(places)
    contracts = []
    for number, user, person, place in zip(numbers, users, people, places, strict=True):
        index = number - FIRST_NUMBER + 1
        contracts.append(
            Contract(
                number=str(number),
                subscriber=person,
                address=place,
                user=user,
                tariff=tariffs[index % len(tariffs)] if index > 3 else tariffs[1],
                status=SPECIAL_STATUS.get(number, Contract.Status.ACTIVE),
                signed_on=today - dt.timedelta(days=30 + index % 1500),
            )
        )
    Contract.objects.bulk_create(contracts)

    accounts, entries, links = [], [], []
    for contract in contracts:
        number = int(contract.number)
        index = number - FIRST_NUMBER + 1
        paid = 500_00 + (index * 3_700) % 2000_00
        moves = [("payment", paid, f"demo:payment:{number}", "Пополнение (демо)")]
        if contract.status == Contract.Status.BLOCKED_DEBT:
            moves.append(
                ("charge", -(paid + 300_00), f"demo:charge:{number}", "Абонентская плата (демо)")
            )
        account = Account(contract=contract, balance=sum(m[1] for m in moves))
        accounts.append(account)
        for kind, amount, key, text in moves:
            entries.append(
                LedgerEntry(
                    account=account,
                    kind=kind,
                    amount=amount,
                    idempotency_key=key,
                    description=text,
                    effective_date=contract.signed_on,
                )
            )
        if index % 5 == 1:
            links.append(
                ContractAddOn(
                    contract=contract, addon=addons["static-ip"], connected_on=contract.signed_on
                )
            )
    Credential.objects.bulk_create(
        Credential(contract=c, login=c.number, password=f"net-{c.number}") for c in contracts
    )
    TrafficDaily.objects.bulk_create(_traffic_history(contracts, today))
    Account.objects.bulk_create(accounts)
    LedgerEntry.objects.bulk_create(entries)
    ContractAddOn.objects.bulk_create(links)
    grants.sync(c.pk for c in contracts)


TRAFFIC_DAYS = 30


def _traffic_history(contracts: list[Contract], today: dt.date) -> list[TrafficDaily]:
    """A month of plausible daily traffic for the first demo subscribers (the traffic page
    has something to show without a router); deterministic, not random."""
    rows = []
    for contract in contracts:
        index = int(contract.number) - FIRST_NUMBER + 1
        if index > ARGON2_DEMO_COUNT:
            break
        for back in range(1, TRAFFIC_DAYS + 1):
            base = (index * 7919 + back * 104729) % 9000 + 500  # MB
            rows.append(
                TrafficDaily(
                    contract=contract,
                    day=today - dt.timedelta(days=back),
                    bytes_in=base * 1024**2 // 9,
                    bytes_out=base * 1024**2,
                )
            )
    return rows
