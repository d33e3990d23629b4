import pytest
from django.test import Client

from abonent.billing import services as billing
from abonent.core.context import Actor

pytestmark = pytest.mark.django_db


def test_home_shows_the_account(subscriber_client, contract):
    billing.post_entry(
        contract.account.pk,
        kind="payment",
        amount=1234_50,
        idempotency_key="p1",
        description="t",
        actor=Actor.system(),
    )
    body = subscriber_client.get("/").content.decode()
    assert contract.number in body
    assert "Петров Иван" in body
    assert "1\xa0234,50\xa0₽" in body
    assert "Оптимум 300" in body
    assert "Активен" in body
    assert 'data-testid="next-charge"' in body
    assert 'data-testid="days-left"' in body


def test_home_query_count_is_pinned(subscriber_client, django_assert_num_queries):
    # the session with its subscriber; the contract with subscriber/address/tariff/
    # account, its add-ons, the promised payment + suspension + scheduled change and the
    # outages at the address in one (issue 12: ≤ 6)
    with django_assert_num_queries(2):
        assert subscriber_client.get("/").status_code == 200


def test_one_subscriber_never_sees_another(make_contract):
    alice = make_contract(last_name="Алисова", phone="+79001110001").contract
    bob = make_contract(
        last_name="Бобров", phone="+79001110002", password="bobs own password"
    ).contract
    client = Client()
    client.post("/login/", {"contract_number": bob.number, "password": "bobs own password"})
    for path in ["/", "/profile/", f"/?contract_id={alice.pk}", f"/profile/?id={alice.pk}"]:
        body = client.get(path).content.decode()
        assert "Бобров" in body
        assert bob.number in body
        assert "Алисова" not in body
        assert alice.number not in body


def test_blocked_subscriber_sees_why(subscriber_client, contract):
    contract.status = "blocked_debt"
    contract.save()
    body = subscriber_client.get("/").content.decode()
    assert "Доступ в интернет заблокирован" in body
    assert 'data-testid="next-charge"' not in body


@pytest.mark.parametrize(
    "path", ["/services/", "/traffic/", "/payments/", "/support/", "/profile/"]
)
def test_every_section_answers(subscriber_client, path):
    response = subscriber_client.get(path)
    assert response.status_code == 200


def test_forced_password_change_blocks_the_cabinet_until_done(client, make_contract):
    new = make_contract(keep_initial=True)
    response = client.post(
        "/login/", {"contract_number": new.contract.number, "password": new.initial_password}
    )
    assert response["Location"] == "/profile/password/"
    assert client.get("/")["Location"] == "/profile/password/"
    assert client.get("/services/")["Location"] == "/profile/password/"
    response = client.post(
        "/profile/password/",
        {
            "old_password": new.initial_password,
            "new_password": "my own long secret",
            "new_password_again": "my own long secret",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session survived the change


def test_password_change_ends_other_web_sessions(make_contract):
    contract = make_contract().contract
    here, elsewhere = Client(), Client()
    for c in (here, elsewhere):
        c.post("/login/", {"contract_number": contract.number, "password": "correct horse battery"})
    here.post(
        "/profile/password/",
        {
            "old_password": "correct horse battery",
            "new_password": "a brand new secret",
            "new_password_again": "a brand new secret",
        },
    )
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_password_change_errors_are_shown(subscriber_client):
    response = subscriber_client.post(
        "/profile/password/",
        {"old_password": "wrong", "new_password": "abc", "new_password_again": "abd"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Пароли не совпадают." in body


def test_every_optional_state_at_once_costs_no_more_queries(
    subscriber_client, contract, django_assert_num_queries
):
    """A promised payment, a scheduled suspension and a scheduled tariff change all come
    back from one query (abonent.core.jsonrows) — and are shown with the right values."""
    import datetime as dt

    from abonent.billing.models import PromisedPayment, Suspension, TariffChange
    from abonent.catalog.models import ChargingMode, Tariff

    faster = Tariff.objects.create(
        code="max",
        name="Максимум 1000",
        monthly_price=900_00,
        charging_mode=ChargingMode.DAILY,
        speed_in_mbps=1000,
        speed_out_mbps=1000,
    )
    today = dt.date.today()
    PromisedPayment.objects.create(
        contract=contract, amount=300_00, taken_on=today, expires_on=today + dt.timedelta(days=5)
    )
    Suspension.objects.create(
        contract=contract,
        start_date=today + dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=20),
        status="scheduled",
    )
    TariffChange.objects.create(
        contract=contract,
        from_tariff=contract.tariff,
        to_tariff=faster,
        effective_date=today + dt.timedelta(days=3),
        status="scheduled",
        idempotency_key="test:change",
    )
    with django_assert_num_queries(2):
        body = subscriber_client.get("/").content.decode()
    assert "300,00\xa0₽" in body
    assert "Максимум 1000" in body
    from django.utils import formats, translation

    with translation.override("ru"):
        end = formats.date_format(today + dt.timedelta(days=20))
    assert end in body


def test_add_ons_and_outages_come_with_the_contract(
    subscriber_client, contract, django_assert_num_queries
):
    """Connected add-ons (in the order they were connected, the disconnected one left
    out) and the outages at the address (by start, an ended one and another street's
    left out) travel in the contract's own query."""
    import datetime as dt

    from abonent.catalog.models import AddOn
    from abonent.core import clock
    from abonent.subscribers.models import ContractAddOn
    from abonent.support.models import Outage, OutageArea

    today = dt.date.today()
    for code, name, price, gone in [
        ("ip", "Статический IP", 150_00, None),
        ("tv", "Телевидение", 300_00, None),
        ("old", "Старая услуга", 99_00, today),
    ]:
        addon = AddOn.objects.create(code=code, name=name, price=price)
        ContractAddOn.objects.create(
            contract=contract, addon=addon, connected_on=today, disconnected_on=gone
        )
    now = clock.now()
    for title, street, starts, ended in [
        ("Ремонт магистрали", contract.address.street.upper(), now, None),
        ("Плановые работы", contract.address.street, now - dt.timedelta(hours=1), None),
        ("Уже починили", contract.address.street, now - dt.timedelta(hours=2), now),
        ("Соседняя улица", "ул. Другая", now, None),
    ]:
        outage = Outage.objects.create(title=title, text="…", starts_at=starts, ended_at=ended)
        OutageArea.objects.create(outage=outage, street=street)
    with django_assert_num_queries(2):
        body = subscriber_client.get("/").content.decode()
    assert "Статический IP · 150,00\xa0₽" in body
    assert "Телевидение · 300,00\xa0₽" in body
    assert body.index("Статический IP") < body.index("Телевидение")
    assert "Старая услуга" not in body
    assert body.index("Плановые работы") < body.index("Ремонт магистрали")
    assert "Уже починили" not in body
    assert "Соседняя улица" not in body
