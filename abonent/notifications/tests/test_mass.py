"""Mass operations: a price change told to every subscriber on the tariff at least
PRICE_NOTICE_DAYS ahead, and a message to a segment; both previewed, started once,
worked through in chunks, safe to run twice."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from django.utils import translation

from abonent.accounts.models import User
from abonent.billing.services import post_entry
from abonent.catalog import services as catalog
from abonent.catalog.models import ChargingMode, Tariff, TariffPrice
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import Forbidden, ValidationFailed
from abonent.core.money import Money
from abonent.notifications import mass
from abonent.notifications.models import MassOperation, Message
from abonent.notifications.preferences import save as save_preferences
from abonent.staff.tests.test_staff_2fa import enrol
from abonent.subscribers.models import Address, Contract

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 10)  # the november_10 fixture
VALID_FROM = dt.date(2026, 12, 1)
Status = Contract.Status


def rub(kopecks: int) -> str:
    with translation.override("ru"):
        return Money(kopecks).format()


@pytest.fixture
def manager(db) -> Actor:
    user = User.objects.create_user(
        "manager1", "staff-password-2", kind=User.Kind.STAFF, role=User.Role.MANAGER, is_staff=True
    )
    return Actor(user=user, channel="admin")


@pytest.fixture
def people(make_contract, november_10):
    """Contracts numbered by index: phones +7900000000<i>."""
    made: list[Contract] = []

    def make(
        status: str = Status.ACTIVE,
        *,
        street: str | None = None,
        house: str | None = None,
        balance: int = 0,
        email: str = "",
        tariff: Tariff | None = None,
    ) -> Contract:
        i = len(made)
        contract = make_contract(last_name=f"Абонент{i}", phone=f"+7900000{i:04d}").contract
        Contract.objects.filter(pk=contract.pk).update(
            status=status, tariff=tariff or contract.tariff
        )
        if street or house:
            Address.objects.filter(pk=contract.address_id).update(
                street=street or "ул. Садовая", house=house or "10"
            )
        if email:
            contract.subscriber.email = email
            contract.subscriber.save(update_fields=["email"])
        if balance:
            post_entry(
                contract.account.pk,
                kind="payment" if balance > 0 else "charge",
                amount=balance,
                idempotency_key=f"test:{contract.pk}",
                description="test",
                actor=Actor.system(),
            )
        contract.refresh_from_db()
        made.append(contract)
        return contract

    return make


def sent(kind: str, channel: str = "sms") -> list[Message]:
    return list(Message.objects.filter(kind=kind, channel=channel).order_by("contract_id"))


def other_tariff() -> Tariff:
    return Tariff.objects.create(
        code="maximum",
        name="Максимум 500",
        monthly_price=900_00,
        charging_mode=ChargingMode.DAILY,
        speed_in_mbps=500,
        speed_out_mbps=500,
    )


# --- price change -----------------------------------------------------------------


def test_a_price_date_less_than_ten_days_ahead_is_refused(tariff, people, manager, settings):
    assert settings.PRICE_NOTICE_DAYS == 10
    people()
    too_soon = TODAY + dt.timedelta(days=9)
    for attempt in (
        lambda: catalog.set_price(tariff, 700_00, too_soon, manager),
        lambda: catalog.plan_price_change(tariff, 700_00, too_soon),
        lambda: mass.start_price_change(tariff.pk, 700_00, too_soon, manager),
    ):
        with translation.override("en"), pytest.raises(ValidationFailed) as refused:
            attempt()
        message = str(refused.value.fields["valid_from"][0])
        assert "at least 10 days ahead" in message
        assert "20.11.2026" in message  # the earliest date it would take
    assert not TariffPrice.objects.exists()
    assert not MassOperation.objects.exists()
    assert catalog.set_price(tariff, 700_00, TODAY + dt.timedelta(days=10), manager).pk


def test_a_tariff_nobody_is_on_may_change_from_today_but_never_in_the_past(november_10, manager):
    empty = other_tariff()
    catalog.set_price(empty, 950_00, TODAY, manager)
    empty.refresh_from_db()
    assert empty.monthly_price == 950_00
    with translation.override("en"):
        with pytest.raises(ValidationFailed) as refused:
            catalog.set_price(empty, 990_00, TODAY - dt.timedelta(days=1), manager)
        assert "past" in str(refused.value.fields["valid_from"][0])  # a lazy message


def test_the_preview_counts_every_contract_but_terminated(tariff, people):
    for status in (
        Status.ACTIVE,
        Status.ACTIVE,
        Status.BLOCKED_DEBT,
        Status.SUSPENDED,
        Status.CONNECTING,
        Status.TERMINATED,
    ):
        people(status)
    people(tariff=other_tariff())  # another tariff: not told
    plan = catalog.plan_price_change(tariff, 700_00, VALID_FROM)
    assert plan.by_status == {
        Status.ACTIVE: 2,
        Status.BLOCKED_DEBT: 1,
        Status.SUSPENDED: 1,
        Status.CONNECTING: 1,
    }
    assert plan.total == 5
    assert (plan.old_price, plan.new_price, plan.valid_from) == (600_00, 700_00, VALID_FROM)
    assert "01.12.2026" in plan.notice
    assert rub(700_00) in plan.notice
    assert rub(600_00) in plan.notice


def test_confirming_sets_the_price_and_tells_each_contract_once(
    tariff, people, manager, django_capture_on_commit_callbacks
):
    told = [people(s) for s in (Status.ACTIVE, Status.BLOCKED_DEBT, Status.CONNECTING)]
    told.append(people(Status.SUSPENDED, email="anna@example.com"))
    opted_out = people(email="boris@example.com")
    save_preferences(opted_out.user, {"service_notice:email": False})
    told.append(opted_out)
    people(Status.TERMINATED, email="gone@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        op = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager, key="k1")
    price = TariffPrice.objects.get(tariff=tariff)
    assert (price.monthly_price, price.valid_from, price.created_by) == (
        700_00,
        VALID_FROM,
        manager.user,
    )
    tariff.refresh_from_db()
    assert tariff.monthly_price == 600_00  # until 1 December
    sms = sent("price_change")
    assert [m.contract_id for m in sms] == [c.pk for c in told]
    assert {m.to for m in sms} == {c.subscriber.phone for c in told}
    for message in sms:
        assert "01.12.2026" in message.text
        assert rub(700_00) in message.text
        assert message.status == Message.Status.SENT
        assert message.dedupe_key == f"mass:{op.pk}:{message.contract_id}:sms"
    emails = sent("price_change", "email")
    assert [m.to for m in emails] == [
        "anna@example.com"
    ]  # Boris said no; the terminated one is out
    op.refresh_from_db()
    assert (op.status, op.done, op.total) == (MassOperation.Status.DONE, 5, 5)
    assert op.params["new_price"] == 700_00
    assert op.created_by == manager.user


def test_the_same_key_starts_one_operation(tariff, people, manager):
    people()
    first = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager, key="same")
    second = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager, key="same")
    assert first.pk == second.pk
    assert MassOperation.objects.count() == 1
    assert TariffPrice.objects.count() == 1


def test_running_again_sends_nothing_twice(
    tariff, people, manager, django_capture_on_commit_callbacks
):
    for _i in range(3):
        people()
    with django_capture_on_commit_callbacks(execute=True):
        op = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager)
    assert len(sent("price_change")) == 3
    with django_capture_on_commit_callbacks(execute=True):
        mass.run(op.pk)  # done: nothing to do
        # As if the job died after its last chunk and were resumed from the start.
        MassOperation.objects.filter(pk=op.pk).update(
            status=MassOperation.Status.RUNNING, cursor=0, done=0
        )
        again = mass.run(op.pk)
    assert len(sent("price_change")) == 3
    assert (again.status, again.done, again.total) == (MassOperation.Status.DONE, 3, 3)


def test_progress_moves_chunk_by_chunk_and_ends_at_the_total(tariff, people, manager, monkeypatch):
    for _i in range(5):
        people()
    monkeypatch.setattr(mass, "CHUNK", 2)
    seen: list[int] = []
    send = mass._send

    def spy(op, chunk):
        seen.append(MassOperation.objects.get(pk=op.pk).done)
        send(op, chunk)

    monkeypatch.setattr(mass, "_send", spy)
    op = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager)
    assert op.status == MassOperation.Status.QUEUED  # the job starts after commit
    done = mass.run(op.pk)
    assert seen == [0, 2, 4]
    assert (done.status, done.done, done.total) == (MassOperation.Status.DONE, 5, 5)
    assert len(sent("price_change")) == 5


# --- messages to a segment --------------------------------------------------------


TEXT = "Договор {number}: баланс {balance}. Пополните счёт, пожалуйста."


def test_a_message_reaches_exactly_the_segment_with_placeholders_filled(
    people, manager, django_capture_on_commit_callbacks
):
    debtor = people(street="ул. Садовая", house="10", balance=-150_00)
    debtor_next_door = people(Status.BLOCKED_DEBT, street="ул. Садовая", house="12", balance=-1_00)
    people(street="ул. Садовая", house="10", balance=200_00)  # not in debt
    people(street="Невский пр.", house="10", balance=-150_00)  # another street
    people(Status.TERMINATED, street="ул. Садовая", house="10", balance=-150_00)
    segment = mass.Segment(street="садовая", balance_below=0)
    plan = mass.plan_message(segment, TEXT, ["sms"])
    assert plan.total == 2
    assert plan.samples == [debtor.number, debtor_next_door.number]
    assert plan.rendered == (
        f"Договор {debtor.number}: баланс {rub(-150_00)}. Пополните счёт, пожалуйста."
    )
    house = mass.plan_message(
        mass.Segment(street="Садовая", house="10", balance_below=0), TEXT, ["sms"]
    )
    assert house.samples == [debtor.number]
    with django_capture_on_commit_callbacks(execute=True):
        op = mass.start_message(segment, TEXT, ["sms"], manager, key="m1")
    sms = sent("mass_message")
    assert [(m.contract_id, m.to) for m in sms] == [
        (debtor.pk, debtor.subscriber.phone),
        (debtor_next_door.pk, debtor_next_door.subscriber.phone),
    ]
    assert sms[0].text == plan.rendered
    assert sms[1].text == (
        f"Договор {debtor_next_door.number}: баланс {rub(-1_00)}. Пополните счёт, пожалуйста."
    )
    assert not sent("mass_message", "email")
    op.refresh_from_db()
    assert (op.status, op.done, op.total) == (MassOperation.Status.DONE, 2, 2)


def test_a_message_by_tariff_status_and_email(
    tariff, people, manager, django_capture_on_commit_callbacks
):
    suspended = people(Status.SUSPENDED, email="s@example.com")
    people(Status.SUSPENDED, email="x@example.com", tariff=other_tariff())
    people(email="a@example.com")
    segment = mass.Segment(tariff_id=tariff.pk, statuses=(Status.SUSPENDED,))
    with django_capture_on_commit_callbacks(execute=True):
        mass.start_message(segment, "Заморозка до {number}", ["email"], manager, subject="Тема")
    emails = sent("mass_message", "email")
    assert [m.to for m in emails] == ["s@example.com"]
    assert emails[0].text == f"Тема\nЗаморозка до {suspended.number}"
    assert not sent("mass_message")


def test_an_empty_segment_and_bad_texts_are_clear_errors(people, manager):
    people(street="ул. Садовая")
    with translation.override("en"):
        with pytest.raises(ValidationFailed) as empty:
            mass.plan_message(mass.Segment(street="Нет такой"), "Привет", ["sms"])
        assert "No contract matches" in str(empty.value.message)
        with pytest.raises(ValidationFailed) as empty:
            mass.start_message(mass.Segment(balance_below=-1_00), "Привет", ["sms"], manager)
        assert "No contract matches" in str(empty.value.message)
        with pytest.raises(ValidationFailed) as long:
            mass.plan_message(mass.Segment(), "Я" * 336, ["sms"])
        assert "too long for SMS" in str(long.value.fields["text"][0])
        assert "at most 335" in str(long.value.fields["text"][0])
        # The placeholders count as their widest: a text that fits bare may not fit filled.
        with pytest.raises(ValidationFailed) as long:
            mass.plan_message(mass.Segment(), "Я" * 325 + "{balance}", ["sms"])
        assert "too long" in str(long.value.fields["text"][0])
        assert mass.plan_message(mass.Segment(), "Я" * 336, ["email"]).total == 1
        for text, channels, field, words in (
            ("", ["sms"], "text", "Write the text"),
            ("Договор {nomer}", ["sms"], "text", "Unknown placeholder {nomer}"),
            ("Привет", [], "channels", "at least one channel"),
        ):
            with pytest.raises(ValidationFailed) as bad:
                mass.plan_message(mass.Segment(), text, channels)
            assert words in str(bad.value.fields[field][0])
    assert not MassOperation.objects.exists()


# --- access -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [User.Role.OPERATOR, User.Role.CASHIER])
def test_operators_and_cashiers_may_not(tariff, people, staff_user, role):
    people()
    staff_user.role = role
    staff_user.save()
    actor = Actor(user=staff_user, channel="admin")
    with pytest.raises(Forbidden):
        mass.start_price_change(tariff.pk, 700_00, VALID_FROM, actor)
    with pytest.raises(Forbidden):
        mass.start_message(mass.Segment(), "Привет", ["sms"], actor)
    assert not TariffPrice.objects.exists()
    client, _codes = enrol(staff_user)
    op = MassOperation.objects.create(kind=MassOperation.Kind.MESSAGE, params={})
    for url in (
        "/staff/mass/",
        "/staff/mass/price/",
        "/staff/mass/message/",
        f"/staff/mass/{op.pk}/",
        f"/staff/mass/{op.pk}/progress/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/staff/mass/message/", {"action": "confirm"}).status_code == 403


# --- pages ------------------------------------------------------------------------


def confirm_fields(page: str) -> dict[str, list[str]]:
    """The hidden fields of the confirm form, as the browser would post them."""
    form = page[page.index('data-testid="confirm-form"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(htmllib.unescape(value))
    return fields


@pytest.fixture
def manager_client(staff_user, november_10):
    staff_user.role = User.Role.MANAGER
    staff_user.save()
    client, _codes = enrol(staff_user)
    return client


def test_the_price_pages_preview_then_start_once(
    manager_client, tariff, people, django_capture_on_commit_callbacks
):
    people()
    people(Status.BLOCKED_DEBT)
    people(Status.TERMINATED)
    form = manager_client.get("/staff/mass/price/").content.decode()
    assert 'value="2026-11-20"' in form  # the earliest date is offered
    data = {"tariff": tariff.pk, "monthly_price": "700", "valid_from": "2026-12-01"}
    too_soon = manager_client.post(
        "/staff/mass/price/", {**data, "valid_from": "2026-11-15", "action": "preview"}
    ).content.decode()
    assert 'data-testid="preview"' not in too_soon
    assert "20.11.2026" in too_soon  # the error names the earliest date
    page = manager_client.post("/staff/mass/price/", {**data, "action": "preview"}).content.decode()
    assert re.search(r'data-testid="total"><strong>2</strong>', page)
    assert "01.12.2026" in page
    assert not TariffPrice.objects.exists()  # a preview changes nothing
    confirm = {**confirm_fields(page), "action": "confirm"}
    assert confirm["key"]
    with django_capture_on_commit_callbacks(execute=True):
        first = manager_client.post("/staff/mass/price/", confirm)
        second = manager_client.post("/staff/mass/price/", confirm)  # a double submit
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    op = MassOperation.objects.get()
    assert first["Location"] == f"/staff/mass/{op.pk}/"
    assert len(sent("price_change")) == 2
    page = manager_client.get(first["Location"]).content.decode()
    assert "Оптимум 300" in page
    listing = manager_client.get("/staff/mass/").content.decode()
    assert f"/staff/mass/{op.pk}/" in listing


def test_the_message_page_previews_with_samples_and_starts(
    manager_client, people, django_capture_on_commit_callbacks
):
    debtor = people(street="ул. Садовая", balance=-10_00)
    people(street="ул. Садовая", balance=10_00)
    data = {
        "street": "Садовая",
        "balance_below": "0",
        "channels": ["sms"],
        "text": "Договор {number}, баланс {balance}",
    }
    assert manager_client.get("/staff/mass/message/").status_code == 200
    page = manager_client.post("/staff/mass/message/", {**data, "action": "preview"})
    html = page.content.decode()
    assert re.search(r'data-testid="total"><strong>1</strong>', html)
    assert f'data-testid="samples">{debtor.number}<' in html
    assert f"Договор {debtor.number}, баланс" in html
    empty = manager_client.post(
        "/staff/mass/message/", {**data, "street": "Нет такой", "action": "preview"}
    ).content.decode()
    assert 'data-testid="form-error"' in empty
    confirm = confirm_fields(html)
    assert confirm["text"] == [data["text"]]
    assert confirm["channels"] == ["sms"]
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post("/staff/mass/message/", {**confirm, "action": "confirm"})
    assert response.status_code == 302
    sms = sent("mass_message")
    assert [m.contract_id for m in sms] == [debtor.pk]
    assert sms[0].text == f"Договор {debtor.number}, баланс {rub(-10_00)}"


def test_the_progress_fragment_polls_while_running_and_stops_when_done(manager_client):
    op = MassOperation.objects.create(
        kind=MassOperation.Kind.MESSAGE,
        params={"text": "x", "channels": ["sms"], "segment": {}},
        status=MassOperation.Status.RUNNING,
        total=3000,
        done=1000,
    )
    fragment = manager_client.get(f"/staff/mass/{op.pk}/progress/", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in html  # a fragment, not a page
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/staff/mass/{op.pk}/progress/"' in html
    assert 'data-testid="done">1000<' in html
    assert 'data-testid="total">3000<' in html
    MassOperation.objects.filter(pk=op.pk).update(status=MassOperation.Status.DONE, done=3000)
    html = manager_client.get(f"/staff/mass/{op.pk}/progress/").content.decode()
    assert "hx-get" not in html
    assert 'data-status="done"' in html
    page = manager_client.get(f"/staff/mass/{op.pk}/").content.decode()
    assert 'data-testid="progress"' in page


def test_a_failed_or_never_started_operation_is_taken_up_again(
    tariff, people, manager, django_capture_on_commit_callbacks
):
    from abonent.notifications.tasks import resume_mass_operations

    for _i in range(2):
        people()
    op = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager)  # job never ran
    assert len(sent("price_change")) == 0
    created = MassOperation.objects.get(pk=op.pk).created_at
    MassOperation.objects.filter(pk=op.pk).update(created_at=created - dt.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        resume_mass_operations.call_local()
    op.refresh_from_db()
    assert (op.status, op.done) == (MassOperation.Status.DONE, 2)
    assert len(sent("price_change")) == 2


def test_an_operation_whose_worker_died_is_taken_up_again(
    tariff, people, manager, django_capture_on_commit_callbacks
):
    """The worker was killed after the first chunk: the operation stays RUNNING with an
    old heartbeat; the periodic task finishes it, and nobody is told twice."""
    from abonent.notifications.tasks import resume_mass_operations

    for _i in range(3):
        people()
    op = mass.start_price_change(tariff.pk, 700_00, VALID_FROM, manager)
    mass._begin(op.pk)
    with translation.override("ru"):
        assert mass._chunk(op.pk)  # one chunk (all three), then the worker "dies"
    MassOperation.objects.filter(pk=op.pk).update(cursor=0, done=0)  # its save was lost
    now = clock.now()
    # still alive a minute ago: left alone
    MassOperation.objects.filter(pk=op.pk).update(heartbeat_at=now - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        resume_mass_operations.call_local()
    assert MassOperation.objects.get(pk=op.pk).status == MassOperation.Status.RUNNING
    # silent for 11 minutes: taken up, and the three already told are not told again
    MassOperation.objects.filter(pk=op.pk).update(heartbeat_at=now - dt.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        resume_mass_operations.call_local()
    op.refresh_from_db()
    assert (op.status, op.done) == (MassOperation.Status.DONE, 3)
    assert len(sent("price_change")) == 3
