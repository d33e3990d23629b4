import threading

import pytest
from django.db import connection
from django.utils import translation

from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import NotFound, ValidationFailed
from abonent.core.models import AuditLog
from abonent.subscribers import services
from abonent.subscribers.models import Contract, ContractNumberCounter, Subscriber
from abonent.subscribers.selectors import contract_for_user

pytestmark = pytest.mark.django_db


def test_new_contract_has_login_account_and_forced_password_change(make_contract):
    new = make_contract(keep_initial=True)
    contract = new.contract
    assert contract.number == "1000001"
    assert contract.user.username == contract.number
    assert contract.user.kind == User.Kind.SUBSCRIBER
    assert contract.user.password_change_required
    assert contract.user.check_password(new.initial_password)
    assert new.initial_password not in contract.user.password
    assert contract.account.balance == 0
    assert contract.subscriber.phone == "+79001112233"
    audit = AuditLog.objects.get(action="contract.created")
    assert audit.contract_id == contract.pk
    assert audit.after is not None
    assert audit.after["number"] == "1000001"


def test_numbers_are_sequential_and_never_reused(make_contract):
    numbers = [make_contract(phone=f"+7 900 111-22-3{i}").contract.number for i in range(3)]
    assert numbers == ["1000001", "1000002", "1000003"]
    # Explicit numbers (imports, demo data) push the counter past themselves.
    services.reserve_contract_numbers_through(1000500)
    assert make_contract().contract.number == "1000501"
    assert ContractNumberCounter.objects.get().next_number == 1000502


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_gives_distinct_numbers(db):
    results: list[str] = []
    lock = threading.Lock()

    def worker():
        from django.db import transaction

        try:
            for _ in range(5):
                with transaction.atomic():
                    number = services.allocate_contract_numbers(1)[0]
                with lock:
                    results.append(number)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert sorted(results) == [str(n) for n in range(1000001, 1000021)]


@pytest.mark.parametrize(
    ("field", "person_kwargs"),
    [
        ("phone", {"phone": "12"}),
        ("phone", {"phone": "not a phone"}),
        ("last_name", {"last_name": "  "}),
    ],
)
def test_bad_person_data_changes_nothing(tariff, field, person_kwargs):
    data = {"last_name": "Петров", "first_name": "Иван", "phone": "+79001112233", **person_kwargs}
    with pytest.raises(ValidationFailed) as info:
        services.create_contract(
            services.PersonData(**data),
            services.AddressData(street="ул. Садовая", house="1"),
            tariff,
            Actor.system(),
        )
    assert field in info.value.fields
    assert not Subscriber.objects.exists()
    assert not Contract.objects.exists()


def test_archived_tariff_cannot_be_picked(tariff):
    tariff.is_archived = True
    tariff.save()
    with pytest.raises(ValidationFailed):
        services.create_contract(
            services.PersonData(last_name="A", first_name="B", phone="+79001112233"),
            services.AddressData(street="S", house="1"),
            tariff,
            Actor.system(),
        )


def test_passport_is_encrypted_at_rest(contract):
    person = contract.subscriber
    person.passport_series = "4010"
    person.passport_number = "123456"
    person.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT passport_series, passport_number FROM subscribers_subscriber WHERE id = %s",
            [person.pk],
        )
        raw_series, raw_number = cursor.fetchone()
    assert "4010" not in raw_series
    assert "123456" not in raw_number
    person.refresh_from_db()
    assert (person.passport_series, person.passport_number) == ("4010", "123456")
    assert person.passport_masked == "****56"


def test_access_gate_returns_only_ones_own_contract(make_contract, staff_user):
    mine = make_contract().contract
    theirs = make_contract(last_name="Сидоров", phone="+79005556677").contract
    assert contract_for_user(mine.user) == mine
    assert contract_for_user(theirs.user) == theirs
    with pytest.raises(NotFound):
        contract_for_user(staff_user)


def test_a_new_contract_gets_its_own_network_credentials(make_contract):
    new = make_contract(keep_initial=True)
    credential = new.contract.credential
    assert credential.login == new.contract.number
    assert len(credential.password) == 8
    assert credential.password != new.initial_password  # the cabinet password opens no network


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_status_reads_as_its_choice_in_the_language(language):
    with translation.override(language):
        for value, label in Contract.Status.choices:
            assert Contract(status=value).get_status_display() == str(label)
        assert Contract(status="unheard-of").get_status_display() == "unheard-of"
    with translation.override("ru"):
        assert Contract(status=Contract.Status.SUSPENDED).get_status_display() != "suspended"
