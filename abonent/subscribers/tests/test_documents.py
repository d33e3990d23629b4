"""The contract PDF: Cyrillic text survives (extracted back with pypdf), every section is
there, and the cabinet password is printed only when it is given — at signing."""

import io

import pytest
from pypdf import PdfReader

from abonent.billing import lifecycle
from abonent.catalog.models import AddOn
from abonent.core.context import Actor
from abonent.network.models import Credential
from abonent.subscribers.documents import contract_pdf, mask_passport
from abonent.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(pdf)).pages
    # Line breaks and no-break spaces (in amounts and dates) become plain spaces.
    return " ".join(" ".join(page.extract_text().split()) for page in pages).replace("\xa0", " ")


def test_the_signing_print_has_everything_and_the_initial_password(make_contract, settings):
    settings.PROVIDER_NAME = "Скайнет"
    new = make_contract(keep_initial=True)
    contract = new.contract
    credential = Credential.objects.get(contract=contract)
    text = text_of(contract_pdf(contract, password=new.initial_password))
    assert "Скайнет" in text
    assert contract.number in text
    assert "Петров Иван" in text
    assert "Санкт-Петербург, ул. Садовая, д. 10, кв. 5" in text
    assert "Оптимум 300" in text
    assert "600,00 ₽" in text
    assert "300" in text
    assert new.initial_password in text
    assert credential.login in text
    assert credential.password in text
    assert "Forgot password" not in text
    assert "Забыли пароль" not in text
    assert len(text) > 1500  # a real document, not one line


def test_a_copy_has_no_password_but_says_how_to_get_one(make_contract):
    new = make_contract(keep_initial=True)
    text = text_of(contract_pdf(new.contract, password=None))
    assert new.contract.number in text
    assert "Петров Иван" in text
    assert new.initial_password not in text
    assert "Forgot password" in text or "Забыли пароль" in text
    # The router's login and password are in every copy: they are needed to connect.
    assert Credential.objects.get(contract=new.contract).password in text


def test_add_ons_and_the_monthly_total(funded):
    tv = AddOn.objects.create(code="tv", name="Телевидение", price=300_00)
    lifecycle.set_addon(funded.pk, tv.pk, True, Actor.system())
    text = text_of(contract_pdf(funded, password=None))
    assert "Телевидение" in text
    assert "300,00 ₽" in text
    assert "900,00 ₽" in text  # 600 ₽ tariff + 300 ₽ a month


def test_passport_is_masked_but_for_the_last_four_digits(contract):
    person = contract.subscriber
    person.passport_series = "4010"
    person.passport_number = "123456"
    person.save()
    assert Subscriber.objects.get(pk=person.pk).passport_number == "123456"  # decrypts
    assert mask_passport(person) == "**** **3456"
    text = text_of(contract_pdf(contract, password=None))
    assert "**** **3456" in text
    assert "123456" not in text
    assert "4010" not in text


def test_no_passport_no_line(contract):
    assert mask_passport(contract.subscriber) == ""


def test_english(make_contract):
    from django.utils import translation

    contract = make_contract().contract
    with translation.override("en"):
        text = text_of(contract_pdf(contract, password=None))
    assert "Signatures of the parties" in text
    assert "Петров Иван" in text
