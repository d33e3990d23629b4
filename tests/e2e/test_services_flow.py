"""Changing the tariff and suspending the service, on a phone-sized page."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from abonent.billing.models import TariffChange

from .test_login_flow import SHOTS, VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_change_tariff_with_preview_on_a_phone(browser, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    context = browser.new_context(**VIEWPORTS["phone"], locale="ru-RU")
    page: Page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Номер договора").fill("1000001")
    page.get_by_label("Пароль").fill("demo-1000001")
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("link", name="Услуги").click()
    turbo = page.get_by_test_id("tariff-turbo-500")
    turbo.get_by_role("link", name="Выбрать").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("сейчас")  # an upgrade takes effect at once
    expect(preview).to_contain_text("1\u00a0000,00")  # 850 ₽ tariff + 150 ₽ static IP
    page.screenshot(path=str(SHOTS / "tariff-preview-phone-ru.png"), full_page=True)
    page.get_by_test_id("confirm").click()
    expect(page.get_by_text("Тариф изменён.")).to_be_visible()
    expect(page.get_by_test_id("tariff-turbo-500")).to_contain_text("ваш тариф")
    assert TariffChange.objects.get().status == "applied"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
