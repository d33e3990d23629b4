"""Paying through the sandbox provider's page, as a subscriber does it on a phone: the
return page follows the payment until the provider's notification has credited it."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from abonent.billing.models import LedgerEntry
from abonent.subscribers.models import Contract

from .test_login_flow import SHOTS, VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page: Page, base: str, number: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Номер договора").fill(number)
    page.get_by_label("Пароль").fill(f"demo-{number}")
    page.get_by_role("button", name="Войти").click()


def pay_on_sandbox(page: Page) -> None:
    expect(page.get_by_text("Песочница платёжного провайдера")).to_be_visible()
    page.get_by_label("Номер карты").fill("4111 1111 1111 1111")
    page.get_by_label("Действует до (ММ/ГГ)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    page.get_by_test_id("pay").click()


def test_pay_500_on_a_phone(browser, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    before = Contract.objects.get(number="1000001").account.balance
    context = browser.new_context(**VIEWPORTS["phone"], locale="ru-RU")
    page = context.new_page()
    login(page, live_server.url, "1000001")
    page.get_by_role("link", name="Платежи").click()
    page.get_by_label("Сумма, ₽").fill("500")
    page.get_by_test_id("pay-form").get_by_test_id("pay").click()
    pay_on_sandbox(page)
    status = page.get_by_test_id("payment-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=15_000)
    expect(page.get_by_text("Оплачено. Спасибо!")).to_be_visible()
    page.screenshot(path=str(SHOTS / "payment-phone-ru.png"), full_page=True)
    after = Contract.objects.get(number="1000001").account.balance
    assert after - before == 500_00
    assert (
        LedgerEntry.objects.filter(
            kind="payment", idempotency_key__startswith="payment:sandbox:"
        ).count()
        == 1
    )
    context.close()


def test_a_blocked_subscriber_pays_and_is_back_online(browser, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    context = browser.new_context(**VIEWPORTS["desktop"], locale="ru-RU")
    page = context.new_page()
    login(page, live_server.url, "1000002")
    expect(page.get_by_test_id("status")).to_have_text("Заблокирован за долг")
    page.get_by_role("link", name="Платежи").click()
    page.get_by_test_id("suggest-unblock").click()  # the sum that lifts the block
    pay_on_sandbox(page)
    expect(page.get_by_test_id("payment-status")).to_have_attribute(
        "data-status", "succeeded", timeout=15_000
    )
    expect(page.get_by_text("Доступ в интернет включён.")).to_be_visible()
    assert Contract.objects.get(number="1000002").status == "active"
    context.close()
