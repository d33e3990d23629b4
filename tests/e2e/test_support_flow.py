"""Support as people use it: a subscriber on a phone asks with a photo, an operator
answers from the staff desk (password + authenticator code), the subscriber reads the
answer, closes the ticket and rates it."""

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from abonent.accounts.models import User
from abonent.support.models import Ticket

from .test_login_flow import SHOTS, VIEWPORTS
from .test_payment_flow import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def staff_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_ticket_with_a_photo_answered_closed_and_rated(browser, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    operator = User.objects.get(username="operator")
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)

    phone = browser.new_context(**VIEWPORTS["phone"], locale="ru-RU")
    page = phone.new_page()
    login(page, live_server.url, "1000001")
    page.get_by_role("link", name="Поддержка").click()
    page.get_by_test_id("new-ticket").click()
    page.get_by_label("Раздел", exact=True).select_option("no_connection")
    page.get_by_label("Тема", exact=True).fill("Нет интернета с утра")
    page.get_by_label("Ваш вопрос").fill("Роутер мигает красным, фото прилагаю.")
    page.get_by_test_id("attachments").set_input_files(
        {"name": "router.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_test_id("send-ticket").click()
    expect(page.get_by_test_id("conversation")).to_contain_text("Роутер мигает красным")
    expect(page.get_by_test_id("attachment")).to_contain_text("router.png")
    ticket = Ticket.objects.get()

    desk = browser.new_context(**VIEWPORTS["desktop"], locale="ru-RU")
    staff = desk.new_page()
    staff.goto(f"{live_server.url}/staff/tickets/")
    staff.get_by_label("Логин").fill("operator")
    staff.get_by_label("Пароль").fill("operator-demo")
    staff.get_by_role("button", name="Продолжить").click()
    staff.get_by_label("Код из приложения-аутентификатора или резервный код").fill(
        staff_code(device)
    )
    staff.get_by_role("button", name="Войти").click()
    expect(staff.get_by_test_id("queue")).to_contain_text("Нет интернета с утра")
    staff.get_by_role("link", name="Нет интернета с утра").click()
    expect(staff.get_by_test_id("subscriber-card")).to_contain_text("1000001")
    staff.get_by_label("Ответ", exact=True).fill("Перезагрузите роутер, авария на линии устранена.")
    staff.get_by_test_id("staff-send").click()
    expect(staff.get_by_test_id("ticket-status")).to_have_text("В работе")

    page.reload()
    expect(page.get_by_test_id("conversation")).to_contain_text("авария на линии устранена")
    page.get_by_test_id("close-ticket").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Закрыто")
    page.get_by_label("5", exact=True).check()
    page.get_by_label("Комментарий").fill("Спасибо, быстро!")
    page.get_by_test_id("send-rating").click()
    expect(page.get_by_test_id("rated")).to_contain_text("5 из 5")
    page.screenshot(path=str(SHOTS / "support-phone-ru.png"), full_page=True)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.rating_comment) == (
        "closed",
        5,
        "Спасибо, быстро!",
    )
    assert ticket.first_response_at is not None
    phone.close()
    desk.close()
