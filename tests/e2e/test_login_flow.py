"""A subscriber logs in with the contract number on a phone and on a desktop, sees the
balance, switches the language and logs out: the way people will really use it."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Page, expect

from abonent.billing.models import Account

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-results"

VIEWPORTS = {
    "phone": {
        "viewport": {"width": 360, "height": 780},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 800}},
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_login_balance_language_logout(browser, live_server, demo, device):
    context = browser.new_context(**VIEWPORTS[device], locale="ru-RU")
    page: Page = context.new_page()
    balance = Account.objects.get(contract__number="1000001").money
    with translation.override("ru"):
        balance_ru = balance.format()

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()

    # A wrong password first: a clear message, still on the login page.
    page.get_by_label("Номер договора").fill("1000001")
    page.get_by_label("Пароль").fill("not my password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_test_id("form-error")).to_have_text("Неверный номер договора или пароль.")

    page.get_by_label("Номер договора").fill(" 1000001 ")
    page.get_by_label("Пароль").fill("demo-1000001")
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("contract-number")).to_have_text("1000001")
    expect(page.get_by_test_id("balance")).to_have_text(balance_ru)
    expect(page.get_by_test_id("status")).to_have_text("Активен")
    expect(page.get_by_role("navigation")).to_be_visible()
    # Mobile-first: nothing sticks out sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"home-{device}-ru.png"), full_page=True)

    page.get_by_test_id("lang-en").click()
    expect(page.get_by_text("Balance", exact=True)).to_be_visible()
    with translation.override("en"):
        expect(page.get_by_test_id("balance")).to_have_text(balance.format())
    expect(page.get_by_test_id("status")).to_have_text("Active")
    page.screenshot(path=str(SHOTS / f"home-{device}-en.png"), full_page=True)

    page.get_by_role("link", name="Profile").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    context.close()
