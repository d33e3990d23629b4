"""Access for life, as people do it: “Forgot password?” on a phone, and a hotline
temporary password that forces the change screen."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from abonent.accounts import services
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.notifications.models import Message

from .test_login_flow import SHOTS, VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)


def latest_code(phone: str) -> str:
    message = Message.objects.filter(to=phone).order_by("-id").first()
    assert message is not None
    found = re.search(r"\b(\d{6})\b", message.text)
    assert found, message.text
    return found.group(1)


def test_forgot_password_on_a_phone(browser, live_server, demo):
    context = browser.new_context(**VIEWPORTS["phone"], locale="ru-RU")
    page: Page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_test_id("forgot").click()
    expect(page.get_by_role("heading", name="Восстановление пароля")).to_be_visible()
    page.get_by_label("Телефон из договора").fill("8 900 000 00 01")
    page.get_by_role("button", name="Получить код").click()

    expect(page.get_by_test_id("sent-to")).to_contain_text("+7 900 ***-**-01")
    resend = page.get_by_test_id("resend")
    expect(resend).to_be_disabled()  # the cooldown counts down visibly
    expect(page.get_by_text(re.compile(r"через \d+ с"))).to_be_visible()

    page.get_by_label("Код").fill(latest_code("+79000000001"))
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_label("Новый пароль", exact=True).fill("весенний ветер над Невой")
    page.get_by_label("Новый пароль ещё раз").fill("весенний ветер над Невой")
    page.get_by_role("button", name="Сохранить и войти").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Пароль изменён. С возвращением!")).to_be_visible()
    expect(page.get_by_test_id("contract-number")).to_have_text("1000001")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / "recovery-phone-ru.png"), full_page=True)
    # The subscriber was told by SMS that the password changed.
    assert Message.objects.filter(to="+79000000001", kind="password_changed").exists()
    context.close()


def test_hotline_temporary_password_forces_the_change_screen(browser, live_server, demo):
    operator = User.objects.get(username="operator")
    temporary = services.issue_temporary_password(
        User.objects.get(username="1000002"),
        ["contract_number", "passport"],
        Actor(user=operator, channel="admin"),
    )
    context = browser.new_context(**VIEWPORTS["desktop"], locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Номер договора").fill("1000002")
    page.get_by_label("Пароль").fill(temporary)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/profile/password/")
    expect(page.get_by_text("Вы вошли с временным паролем")).to_be_visible()
    page.goto(f"{live_server.url}/")  # nothing else works until the change
    expect(page).to_have_url(f"{live_server.url}/profile/password/")
    page.get_by_label("Текущий пароль").fill(temporary)
    page.get_by_label("Новый пароль", exact=True).fill("мой собственный пароль")
    page.get_by_label("Новый пароль ещё раз").fill("мой собственный пароль")
    page.get_by_role("button", name="Сохранить новый пароль").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("status")).to_have_text("Заблокирован за долг")
    context.close()
