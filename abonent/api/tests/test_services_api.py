import pytest
from django.test import Client
from pypdf import PdfReader

from abonent.billing.services import post_entry
from abonent.catalog.models import AddOn, Tariff
from abonent.core.context import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(november_10):
    return november_10


@pytest.fixture
def api(funded):
    contract = funded
    token = (
        Client()
        .post(
            "/api/v1/auth/login",
            {"contract_number": contract.number, "password": "correct horse battery"},
            content_type="application/json",
        )
        .json()["access_token"]
    )

    class Api:
        def __call__(self, method, path, body=None, **headers):
            return getattr(Client(), method)(
                path,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                HTTP_ACCEPT_LANGUAGE="ru",
                **headers,
            )

    return Api()


@pytest.fixture
def turbo(db):
    return Tariff.objects.create(
        code="turbo", name="Турбо", monthly_price=900_00, speed_in_mbps=500, speed_out_mbps=500
    )


def test_the_preview_tells_of_an_announced_price(api, turbo):
    from abonent.catalog.models import TariffPrice

    TariffPrice.objects.create(tariff=turbo, monthly_price=990_00, valid_from="2027-01-01")
    preview = api("post", "/api/v1/tariff-changes/preview", {"tariff_id": turbo.pk}).json()
    assert preview["price_change"] == {
        "valid_from": "2027-01-01",
        "monthly_price": {"amount": 990_00, "currency": "RUB"},
    }


def test_tariffs_mark_the_current_one(api, contract, turbo):
    Tariff.objects.create(
        code="old", name="Old", monthly_price=1, speed_in_mbps=1, speed_out_mbps=1, is_archived=True
    )
    listed = api("get", "/api/v1/tariffs").json()
    assert {t["id"]: t["current"] for t in listed} == {contract.tariff_id: True, turbo.pk: False}


def test_preview_then_change_with_an_idempotency_key(api, contract, turbo):
    preview = api("post", "/api/v1/tariff-changes/preview", {"tariff_id": turbo.pk}).json()
    assert preview["immediate"] is True
    assert preview["new_monthly_price"] == {"amount": 900_00, "currency": "RUB"}
    assert preview["price_change"] is None
    no_key = api("post", "/api/v1/tariff-changes", {"tariff_id": turbo.pk})
    assert no_key.status_code == 400
    first = api(
        "post", "/api/v1/tariff-changes", {"tariff_id": turbo.pk}, HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    again = api(
        "post", "/api/v1/tariff-changes", {"tariff_id": turbo.pk}, HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "applied"


def test_tariff_not_open_and_interval_are_json_errors(api, contract, turbo):
    archived = Tariff.objects.create(
        code="x", name="X", monthly_price=1, speed_in_mbps=1, speed_out_mbps=1, is_archived=True
    )
    bad = api("post", "/api/v1/tariff-changes/preview", {"tariff_id": archived.pk})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["tariff_id"] == ["Этот тариф вам недоступен."]
    api("post", "/api/v1/tariff-changes", {"tariff_id": turbo.pk}, HTTP_IDEMPOTENCY_KEY="k1")
    again = api(
        "post",
        "/api/v1/tariff-changes",
        {"tariff_id": contract.tariff_id},
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "policy_violation"


def test_addons_connect_with_preview_and_disconnect(api):
    tv = AddOn.objects.create(code="tv", name="ТВ", price=300_00)
    assert api("get", "/api/v1/addons").json()[0]["active"] is False
    preview = api("post", f"/api/v1/addons/{tv.pk}?preview=1")
    assert preview.status_code == 200
    assert preview.json()["new_monthly_total"]["amount"] == 900_00
    assert api("get", "/api/v1/addons").json()[0]["active"] is False  # a preview changes nothing
    assert api("post", f"/api/v1/addons/{tv.pk}").status_code == 201
    assert api("get", "/api/v1/addons").json()[0]["active"] is True
    assert api("delete", f"/api/v1/addons/{tv.pk}").status_code == 200
    assert api("delete", f"/api/v1/addons/{tv.pk}").status_code == 400


def test_suspension_preview_create_and_resume(api):
    body = {"start_date": "2026-11-10", "end_date": "2026-11-19"}
    preview = api("post", "/api/v1/suspensions/preview", body).json()
    assert (preview["days"], preview["min_days"], preview["max_days"]) == (10, 7, 90)
    created = api("post", "/api/v1/suspensions", body)
    assert created.status_code == 201
    assert created.json()["status"] == "active"
    assert api("get", "/api/v1/account").json()["status"] == "suspended"
    assert api("post", f"/api/v1/suspensions/{created.json()['id']}/resume").status_code == 204
    assert api("get", "/api/v1/account").json()["status"] == "active"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"start_date": "2026-11-20", "end_date": "2026-11-12"}, 400),  # reversed
        ({"start_date": "2026-11-10", "end_date": "2027-03-01"}, 400),  # longer than the policy
        ({"start_date": "not a date", "end_date": "2026-11-12"}, 400),
    ],
)
def test_bad_suspensions(api, body, status):
    response = api("post", "/api/v1/suspensions", body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == "validation_error"


def test_promised_payment_twice_is_refused(api, contract):
    post_entry(
        contract.account.pk,
        kind="charge",
        amount=-1100_00,
        idempotency_key="debt",
        description="d",
        actor=Actor.system(),
    )
    first = api("post", "/api/v1/promised-payment", {})
    assert first.status_code == 201
    assert first.json()["amount"]["amount"] == 600_00
    assert api("get", "/api/v1/account").json()["promised_payment"]["amount"]["amount"] == 600_00
    second = api("post", "/api/v1/promised-payment", {})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "policy_violation"


def test_statement_json_csv_pdf_and_bad_range(api):
    data = api("get", "/api/v1/account/statement?from=2026-11-01&to=2026-11-30").json()
    assert data["opening_balance"]["amount"] == 0
    assert data["closing_balance"]["amount"] == 1000_00
    assert data["entries"][0]["balance_after"]["amount"] == 1000_00
    csv = api("get", "/api/v1/account/statement?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert "Оплата" in csv.content.decode("utf-8-sig")
    pdf = api("get", "/api/v1/account/statement?format=pdf")
    import io

    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Выписка по лицевому счёту" in text
    assert "Оплата" in text
    reversed_range = api("get", "/api/v1/account/statement?from=2026-11-30&to=2026-11-01")
    assert reversed_range.status_code == 400
    assert "from" in reversed_range.json()["error"]["fields"]
    ancient = api("get", "/api/v1/account/statement?to=0001-01-01")  # once a 500
    assert ancient.status_code == 400
    assert "to" in ancient.json()["error"]["fields"]
    assert api("get", "/api/v1/account/statement?format=xml").status_code == 400
