"""Write operations on subscribers and contracts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from abonent.accounts import otp, passwords
from abonent.accounts.models import OneTimeCode, User
from abonent.billing import services as billing
from abonent.catalog.models import Tariff
from abonent.core import audit, clock, phones
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.network import services as network

from .models import Address, Contract, ContractNumberCounter, Subscriber


@dataclass(frozen=True)
class PersonData:
    last_name: str
    first_name: str
    phone: str
    middle_name: str = ""
    email: str = ""
    passport_series: str = ""
    passport_number: str = ""
    passport_issued_by: str = ""
    passport_issued_on: dt.date | None = None
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class AddressData:
    street: str
    house: str
    flat: str = ""
    building: str = ""
    city: str = "Санкт-Петербург"


@dataclass(frozen=True)
class NewContract:
    contract: Contract
    # Shown or printed once; only its hash is stored.
    initial_password: str


def _locked_counter() -> ContractNumberCounter:
    counter, _created = ContractNumberCounter.objects.select_for_update().get_or_create(
        pk=1, defaults={"next_number": settings.CONTRACT_NUMBER_START}
    )
    return counter


def allocate_contract_numbers(count: int = 1) -> list[str]:
    """Take the next `count` numbers. Runs inside the caller's transaction and holds the
    counter's row lock until it commits, so numbers are sequential and never reused."""
    counter = _locked_counter()
    start = counter.next_number
    counter.next_number = start + count
    counter.save(update_fields=["next_number"])
    return [str(n) for n in range(start, start + count)]


def reserve_contract_numbers_through(highest: int) -> None:
    """Contracts created with explicit numbers (imports, demo data) call this so that
    the counter never hands those numbers out again."""
    counter = _locked_counter()
    if counter.next_number <= highest:
        counter.next_number = highest + 1
        counter.save(update_fields=["next_number"])


def normalize_person(person: PersonData) -> PersonData:
    errors: dict[str, list] = {}
    if not person.last_name.strip():
        errors["last_name"] = [_("Enter the last name.")]
    if not person.first_name.strip():
        errors["first_name"] = [_("Enter the first name.")]
    try:
        phone = phones.normalize(person.phone)
    except phones.InvalidPhone:
        errors["phone"] = [_("Enter a valid phone number, e.g. +7 900 123-45-67.")]
        phone = ""
    if errors:
        raise ValidationFailed(fields=errors)
    return PersonData(
        **{
            **person.__dict__,
            "last_name": person.last_name.strip(),
            "first_name": person.first_name.strip(),
            "middle_name": person.middle_name.strip(),
            "phone": phone,
        }
    )


@transaction.atomic
def create_contract(
    person: PersonData,
    address: AddressData,
    tariff: Tariff,
    actor: Actor,
    *,
    signed_on: dt.date | None = None,
    subscriber: Subscriber | None = None,
) -> NewContract:
    """Subscriber (unless given), contract with the next number, its cabinet login with
    a random initial password that must be changed at first login, and the account."""
    if tariff.is_archived:
        raise ValidationFailed(fields={"tariff": [_("This tariff is no longer available.")]})
    if subscriber is None:
        person = normalize_person(person)
        subscriber = Subscriber.objects.create(**person.__dict__)
    addr = Address.objects.create(**address.__dict__)
    number = allocate_contract_numbers(1)[0]
    initial_password = passwords.generate()
    user = User(username=number, kind=User.Kind.SUBSCRIBER, password_change_required=True)
    user.set_password(initial_password)
    user.save()
    contract = Contract.objects.create(
        number=number,
        subscriber=subscriber,
        address=addr,
        user=user,
        tariff=tariff,
        signed_on=signed_on or clock.today(),
    )
    billing.open_account(contract.pk, tariff.currency)
    network.issue_credential(contract.pk, number)
    audit.record(
        actor,
        "contract.created",
        contract,
        contract_id=contract.pk,
        after={"number": number, "tariff": tariff.code, "subscriber": subscriber.pk},
    )
    return NewContract(contract, initial_password)


# --- profile: contact data the subscriber changes themselves ------------------------


@transaction.atomic
def change_email(user: User, email: str, actor: Actor) -> None:
    from django.core.validators import validate_email

    cleaned = (email or "").strip()
    if cleaned:
        try:
            validate_email(cleaned)
        except DjangoValidationError:
            raise ValidationFailed(fields={"email": [_("Enter a valid e-mail address.")]}) from None
    contract = Contract.objects.select_related("subscriber").get(user=user)
    person = Subscriber.objects.select_for_update().get(pk=contract.subscriber_id)
    if person.email != cleaned:
        before = person.email
        person.email = cleaned
        person.save(update_fields=["email"])
        audit.record(
            actor,
            "profile.email_changed",
            person,
            contract_id=contract.pk,
            before={"email": before},
            after={"email": cleaned},
        )


def start_phone_change(user: User, new_phone: str, actor: Actor) -> otp.Issued:
    """A code goes to the *new* phone: only someone holding it can make it the
    contract's recovery phone."""
    from django.utils.translation import gettext

    try:
        phone = phones.normalize(new_phone or "")
    except phones.InvalidPhone:
        raise ValidationFailed(
            fields={"phone": [_("Enter a valid phone number, e.g. +7 900 123-45-67.")]}
        ) from None
    contract = Contract.objects.select_related("subscriber").get(user=user)
    if contract.subscriber.phone == phone:
        raise ValidationFailed(fields={"phone": [_("This is already your phone number.")]})
    return otp.issue(
        OneTimeCode.Purpose.PHONE_CHANGE,
        phone,
        ip=actor.ip,
        user=user,
        contract_id=contract.pk,
        text=lambda code: (
            gettext("Code to confirm the new phone for your personal cabinet: %(code)s")
            % {"code": code}
        ),
    )


@transaction.atomic
def confirm_phone_change(user: User, request_id: str, code: str, actor: Actor) -> str:
    from django.utils.translation import gettext

    from abonent.notifications import services as notifications

    row = otp.verify(request_id, code, OneTimeCode.Purpose.PHONE_CHANGE)
    if row.user_id != user.pk:
        raise ValidationFailed(fields={"code": [otp.BAD_CODE]})
    contract = Contract.objects.get(user=user)
    person = Subscriber.objects.select_for_update().get(pk=contract.subscriber_id)
    old = person.phone
    person.phone = row.phone
    person.save(update_fields=["phone"])
    audit.record(
        actor,
        "profile.phone_changed",
        person,
        contract_id=contract.pk,
        before={"phone": old},
        after={"phone": row.phone},
    )
    notifications.send_sms(
        old,
        gettext(
            "The phone of contract %(number)s was changed to %(phone)s. If it was not you, call %(hotline)s."
        )
        % {
            "number": contract.number,
            "phone": phones.display(row.phone),
            "hotline": settings.PROVIDER_HOTLINE,
        },
        kind="phone_changed",
        contract_id=contract.pk,
    )
    return row.phone
