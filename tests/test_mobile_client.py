"""The Android client's logic, headless (Toga's dummy backend) against a live test
server: log in with the printed password, the forced password change, a tariff change
with its preview, a ticket, logout; and token refresh with rotation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TOGA_BACKEND", "toga_dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mobile" / "src"))

from abonent_app.api import ApiClient, ApiError
from abonent_app.app import AbonentApp

from abonent.billing.models import TariffChange
from abonent.catalog.models import Tariff, TariffPrice
from abonent.support.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def press(app: AbonentApp, button_id: str) -> None:
    app.window.widgets[button_id].on_press()


def test_the_app_from_first_login_to_logout(live_server, make_contract, tariff):
    new = make_contract(keep_initial=True)  # the password printed in the contract
    fast = Tariff.objects.create(
        code="fast", name="Быстрый 500", monthly_price=800_00, speed_in_mbps=500, speed_out_mbps=500
    )
    TariffPrice.objects.create(tariff=fast, monthly_price=850_00, valid_from="2099-01-01")
    app = AbonentApp("Абонент", "ru.abonent.cabinet", server=live_server.url)

    app.number.value, app.password.value = new.contract.number, "wrong"
    press(app, "login")
    assert "неверн" in app.status.text.lower()  # the server's own message, in Russian

    app.password.value = new.initial_password
    press(app, "login")
    assert app.api.session.password_change_required  # the forced change screen
    app.old_password.value = new.initial_password
    app.new_password.value = "моя собственная фраза"
    press(app, "save-password")
    assert "₽" in app.balance.text

    press(app, "services")
    app.tariff_choice.value = next(i for i in app.tariff_choice.items if i.name == "Быстрый 500")
    press(app, "preview")
    assert "800.00 ₽" in app.preview.text
    assert "с 2099-01-01 — 850.00 ₽" in app.preview.text  # the announced price
    press(app, "change")
    assert TariffChange.objects.filter(contract=new.contract, to_tariff__code="fast").exists()

    app.show_home()
    press(app, "support")
    app.subject.value, app.text.value = "Нет связи", "С утра не работает"
    press(app, "send-ticket")
    ticket = Ticket.objects.get(contract=new.contract)
    assert f"№{ticket.pk}" in app.status.text

    app.show_home()
    press(app, "logout")
    assert app.api.session.access == ""
    anonymous = ApiClient(live_server.url)
    with pytest.raises(ApiError) as refused:
        anonymous.account()
    assert refused.value.status == 401
    anonymous.http.close()
    app.api.http.close()


def test_refresh_rotates_and_a_replayed_token_ends_the_session(live_server, contract):
    client = ApiClient(live_server.url)
    assert client.login(contract.number, "correct horse battery")
    old_refresh = client.session.refresh
    client.refresh()
    assert client.session.refresh != old_refresh
    assert client.account()["contract_number"] == contract.number
    replay = ApiClient(live_server.url)
    replay.session.refresh = old_refresh
    with pytest.raises(ApiError):
        replay.refresh()
    with pytest.raises(ApiError):  # the replay revoked the whole family
        client.refresh()


def test_every_section_of_the_app(live_server, contract, outbox, monkeypatch):
    """Add-ons, suspension preview, traffic, payments (the provider's page opens),
    autopay, profile, and "Forgot password?" — each against the live server."""
    import webbrowser

    from abonent.billing.services import post_entry
    from abonent.catalog.models import AddOn
    from abonent.core import clock
    from abonent.core.context import Actor
    from abonent.network.models import TrafficDaily
    from abonent.subscribers.models import ContractAddOn

    post_entry(
        contract.account.pk,
        kind="payment",
        amount=2000_00,
        idempotency_key="app-funds",
        description="funds",
        actor=Actor.system(),
    )
    tv = AddOn.objects.create(code="tv", name="ТВ", price=150_00)
    TrafficDaily.objects.create(
        contract=contract, day=clock.today(), bytes_in=5_000_000, bytes_out=70_000_000
    )
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url))

    app = AbonentApp("Абонент", "ru.abonent.cabinet", server=live_server.url)
    press(app, "forgot")
    app.recovery_phone.value = "8 900 111-22-33"
    press(app, "recovery-start")
    app.recovery_code.value = outbox.code()
    app.recovery_password.value = "новая фраза из приложения"
    press(app, "recovery-done")
    assert app.api.session.access  # signed in with the new password
    contract.user.refresh_from_db()
    assert contract.user.check_password("новая фраза из приложения")

    press(app, "services")
    press(app, "addons")
    press(app, f"addon-{tv.pk}")
    assert ContractAddOn.objects.filter(
        contract=contract, addon=tv, disconnected_on__isnull=True
    ).exists()

    app.show_services()
    press(app, "suspension")
    app.suspend_from.value, app.suspend_to.value = "2030-01-10", "2030-01-20"
    press(app, "suspend-preview")
    assert "дн." in app.suspend_preview.text

    app.show_home()
    rows = app.api.traffic()
    press(app, "traffic")
    assert len(rows) == 1
    assert len(app.traffic_table.data) == 1

    app.show_home()
    press(app, "payments")
    app.amount.value = "500"
    press(app, "pay")
    assert opened
    assert "/sandbox-pay/" in opened[0]
    app.autopay_switch.value = True
    press(app, "autopay")
    assert app.status.text  # saved, or the server's reason (no saved card yet)

    app.show_home()
    press(app, "profile")
    app.email.value = "anna@example.ru"
    press(app, "save-profile")
    contract.subscriber.refresh_from_db()
    assert contract.subscriber.email == "anna@example.ru"
    app.api.http.close()
