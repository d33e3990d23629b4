"""The way in, end to end: a person applies on a phone for a covered address, staff
take the application through the pipeline and print the contract, and the new
subscriber logs in with the printed credentials and must change the password."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect
from pypdf import PdfReader

from abonent.accounts.models import User
from abonent.applications.models import Application

from .test_login_flow import SHOTS, VIEWPORTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_apply_to_contract_to_first_login(browser, live_server):
    call_command("seed_demo", "--force", "--subscribers", "3", verbosity=0)
    device = TOTPDevice.objects.create(
        user=User.objects.get(username="operator"), name="phone", confirmed=True
    )

    phone = browser.new_context(**VIEWPORTS["phone"], locale="ru-RU")
    page = phone.new_page()
    page.goto(f"{live_server.url}/apply/")
    page.get_by_label("Ваше имя").fill("Смирнова Анна Викторовна")
    page.get_by_label("Телефон").fill("8 (921) 555-44-33")
    page.get_by_label("Улица").fill("Садовая")
    page.get_by_label("Дом").fill("д. 15")
    page.get_by_label("Квартира").fill("12")
    page.get_by_label("Тариф").select_option(index=1)
    page.get_by_label("Когда вам позвонить").select_option("evening")
    page.get_by_label("Я согласен на обработку персональных данных", exact=False).check()
    page.get_by_test_id("apply-send").click()
    expect(page.get_by_test_id("coverage-answer")).to_have_attribute("data-coverage", "connectable")
    page.screenshot(path=str(SHOTS / "application-phone-ru.png"), full_page=True)
    application = Application.objects.get()

    desk = browser.new_context(**VIEWPORTS["desktop"], locale="ru-RU", accept_downloads=True)
    staff = desk.new_page()
    staff.goto(f"{live_server.url}/staff/applications/")
    staff.get_by_label("Логин").fill("operator")
    staff.get_by_label("Пароль").fill("operator-demo")
    staff.get_by_role("button", name="Продолжить").click()
    staff.get_by_label("Код из приложения-аутентификатора или резервный код").fill(code(device))
    staff.get_by_role("button", name="Войти").click()
    staff.get_by_role("link", name="Смирнова Анна Викторовна").click()
    staff.get_by_test_id("step-feasible").click()
    staff.get_by_label("Заметка").fill("Перезвонили, удобно в субботу")
    staff.get_by_test_id("step-called").click()
    with staff.expect_download() as download:
        staff.get_by_test_id("step-signed").click()
    pdf = Path(download.value.path())
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    application.refresh_from_db()
    number = application.contract.number
    assert number in text
    assert "Смирнова Анна Викторовна" in text
    password = re.search(r"[Пп]ароль[^:\n]*:\s*(\S+)", text)
    assert password is not None
    staff.goto(f"{live_server.url}/staff/applications/{application.pk}/")
    staff.get_by_label("Время монтажа").select_option(index=0)
    staff.get_by_test_id("step-scheduled").click()
    staff.get_by_test_id("step-installed").click()
    staff.get_by_test_id("step-active").click()
    expect(staff.get_by_test_id("application-stage")).to_have_text("Услуга подключена")

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Номер договора").fill(number)
    page.get_by_label("Пароль").fill(password.group(1))
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(f"{live_server.url}/profile/password/")
    page.get_by_label("Текущий пароль").fill(password.group(1))
    page.get_by_label("Новый пароль", exact=True).fill("белые ночи над Невой")
    page.get_by_label("Новый пароль ещё раз").fill("белые ночи над Невой")
    page.get_by_role("button", name="Сохранить новый пароль").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("contract-number")).to_have_text(number)
    expect(page.get_by_test_id("status")).to_have_text("Активен")
    phone.close()
    desk.close()
