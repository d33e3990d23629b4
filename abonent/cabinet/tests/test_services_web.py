import pytest

from abonent.billing.models import Suspension, TariffChange
from abonent.billing.services import post_entry
from abonent.catalog.models import AddOn, Tariff
from abonent.core.context import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(november_10):
    return november_10


def test_services_page_lists_tariffs_and_addons(subscriber_client, funded):
    Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    AddOn.objects.create(code="tv", name="ТВ", price=300_00)
    body = subscriber_client.get("/services/").content.decode()
    assert "Оптимум 300" in body
    assert "ваш тариф" in body
    assert "Турбо" in body
    assert "ТВ" in body


def test_change_tariff_preview_then_confirm_once(subscriber_client, funded):
    turbo = Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    page = subscriber_client.get(f"/services/tariff/{turbo.pk}/").content.decode()
    assert "900,00" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    for _ in range(2):  # a double click
        subscriber_client.post(f"/services/tariff/{turbo.pk}/", {"key": key})
    assert TariffChange.objects.count() == 1
    funded.refresh_from_db()
    assert funded.tariff == turbo


def test_the_tariff_page_tells_of_an_announced_price(subscriber_client, funded):
    from abonent.catalog.models import TariffPrice

    turbo = Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )
    TariffPrice.objects.create(tariff=turbo, monthly_price=990_00, valid_from="2027-01-01")
    page = subscriber_client.get(f"/services/tariff/{turbo.pk}/").content.decode()
    announced = page.split('data-testid="price-change">')[1].split("</dd>")[0]
    assert "1 января 2027" in announced
    assert "990,00" in announced


def test_suspension_form_previews_and_refuses_bad_dates(subscriber_client, funded):
    subscriber_client.cookies["abonent_language"] = "ru"
    bad = subscriber_client.post(
        "/services/suspension/", {"start_date": "2026-11-20", "end_date": "2026-11-12"}
    )
    assert "раньше даты начала" in bad.content.decode() or "до даты начала" in bad.content.decode()
    too_long = subscriber_client.post(
        "/services/suspension/", {"start_date": "2026-11-10", "end_date": "2027-03-01"}
    )
    assert "от 7 до 90 дней" in too_long.content.decode()
    preview = subscriber_client.post(
        "/services/suspension/", {"start_date": "2026-11-10", "end_date": "2026-11-19"}
    )
    assert 'data-testid="preview"' in preview.content.decode()
    assert not Suspension.objects.exists()
    subscriber_client.post(
        "/services/suspension/",
        {"start_date": "2026-11-10", "end_date": "2026-11-19", "confirm": "1"},
    )
    assert Suspension.objects.get().status == "active"


def test_payments_page_statement_and_downloads(subscriber_client, funded):
    page = subscriber_client.get("/payments/").content.decode()
    assert "Оплата" in page
    assert "1\xa0000,00\xa0₽" in page
    assert subscriber_client.get("/payments/?format=csv")["Content-Type"].startswith("text/csv")
    assert subscriber_client.get("/payments/?format=pdf")["Content-Type"] == "application/pdf"
    reversed_range = subscriber_client.get("/payments/?date_from=2026-11-30&date_to=2026-11-01")
    assert reversed_range.status_code == 200
    assert "Дата начала позже даты окончания" in reversed_range.content.decode()
    ancient = subscriber_client.get("/payments/?date_to=0001-01-01")  # once a 500
    assert ancient.status_code == 200
    assert "Введите правильную дату." in ancient.content.decode()


def test_promised_payment_from_the_payments_page(subscriber_client, contract):
    contract.status = "blocked_debt"
    contract.save()
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-50_00,
        idempotency_key="d",
        description="d",
        actor=Actor.system(),
    )
    page = subscriber_client.get("/payments/").content.decode()
    assert 'data-testid="promise"' in page
    subscriber_client.post("/payments/promised/")
    contract.refresh_from_db()
    assert contract.status == "active"
    home = subscriber_client.get("/").content.decode()
    assert "Обещанный платёж" in home or "обещанный платёж" in home
