"""Every write on applications and the coverage register. Web form, API, staff desk
and jobs call these; roles are checked here, not only in views."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import require_action
from abonent.catalog.models import Audience, Tariff
from abonent.catalog.services import next_price
from abonent.core import audit, clock, phones
from abonent.core.context import Actor
from abonent.core.errors import DomainError, Throttled, ValidationFailed
from abonent.network.services import apply_access
from abonent.notifications import services as notifications
from abonent.subscribers import services as subscribers
from abonent.subscribers.models import Contract

from . import coverage
from .addresses import house_key, street_key
from .models import (
    Application,
    ApplicationEvent,
    Building,
    Coverage,
    CoverageWatch,
    InstallSlot,
    Stage,
    Street,
)

logger = logging.getLogger("abonent.applications")
PER_PHONE_HOUR = 3
PHONE_SALT = "abonent.applications.phone"
PER_ADDRESS_10_MIN = 3
PER_IP_HOUR = 10
NEXT: dict[str, tuple[str, ...]] = {
    Stage.NEW: (Stage.FEASIBLE, Stage.REJECTED, Stage.CANCELLED),
    Stage.FEASIBLE: (Stage.CALLED, Stage.CANCELLED),
    Stage.CALLED: (Stage.SIGNED, Stage.CANCELLED),
    Stage.SIGNED: (Stage.SCHEDULED, Stage.CANCELLED),
    Stage.SCHEDULED: (Stage.SCHEDULED, Stage.INSTALLED, Stage.CANCELLED),
    Stage.INSTALLED: (Stage.ACTIVE,),
}


class StageConflict(DomainError):
    code = "policy_violation"
    status = 409


@dataclass
class ApplicationData:
    full_name: str
    phone: str
    street: str
    house: str
    flat: str = ""
    tariff_id: int | None = None
    call_time: str = Application.CallTime.ANY
    comment: str = ""
    consent: bool = False


@dataclass
class Submitted:
    application: Application
    created: bool
    answer: coverage.Answer


def _validate(data: ApplicationData) -> tuple[str, Tariff | None, dict[str, list]]:
    errors: dict[str, list] = {}
    name = " ".join((data.full_name or "").split())
    if not 2 <= len(name) <= 200 or not any(c.isalpha() for c in name):
        errors["full_name"] = [_("Enter your name.")]
    phone = ""
    try:
        phone = phones.normalize(data.phone or "")
    except phones.InvalidPhone:
        errors["phone"] = [_("Enter a phone number such as +7 900 123-45-67 or 8 (900) 123-45-67.")]
    flat = (data.flat or "").strip()
    if len(flat) > 10 or (flat and not flat[0].isdigit()):
        errors["flat"] = [_("Enter the flat number, e.g. 5 or 12а.")]
    tariff = None
    if data.tariff_id:
        tariff = Tariff.objects.filter(
            pk=data.tariff_id, is_archived=False, audience=Audience.EVERYONE
        ).first()
        if tariff is None:
            errors["tariff_id"] = [_("Choose a tariff from the list.")]
    if data.call_time not in Application.CallTime.values:
        errors["call_time"] = [_("Choose when to call you.")]
    if len(data.comment or "") > 1000:
        errors["comment"] = [_("At most %(max)s characters, please.") % {"max": 1000}]
    if not data.consent:
        errors["consent"] = [_("We can process the application only with your consent.")]
    return phone, tariff, errors


def _throttle(phone: str, answer: coverage.Answer, flat: str, ip: str | None) -> None:
    now = clock.now()
    recent = Application.objects.filter(created_at__gte=now - dt.timedelta(hours=1))
    if recent.filter(phone=phone).count() >= PER_PHONE_HOUR:
        raise Throttled(
            3600, _("Too many applications from this phone. Try again in an hour or call us.")
        )
    at_address = Application.objects.filter(
        created_at__gte=now - dt.timedelta(minutes=10),
        street_text__iexact=answer.street.name,
        house_text__iexact=answer.house_key,
        flat=flat,
    )
    if at_address.count() >= PER_ADDRESS_10_MIN:
        raise Throttled(
            600, _("Too many applications for this address. Try again in 10 minutes or call us.")
        )
    if ip and recent.filter(source_ip=ip).count() >= PER_IP_HOUR:
        raise Throttled(3600, _("Too many applications. Try again in an hour or call us."))


@transaction.atomic
def submit(
    data: ApplicationData,
    *,
    source: str,
    ip: str | None,
    status_url: str,
    actor: Actor,
) -> Submitted:
    """A request for connection: checked, answered at once with the coverage, a
    duplicate recognised (the open application is returned), throttled per phone,
    address and client; the applicant gets an SMS with the status page link
    (`status_url` holds "{id}")."""
    phone, tariff, errors = _validate(data)
    try:
        answer = coverage.check(data.street, data.house)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    flat = (data.flat or "").strip().lower()
    duplicate = (
        Application.objects.filter(
            phone=phone,
            street_text__iexact=answer.street.name,
            house_text__iexact=answer.house_key,
            flat=flat,
        )
        .exclude(stage__in=Application.CLOSED)
        .first()
    )
    if duplicate is not None:
        # Whoever typed this phone and address may not be its owner: the link goes to
        # the phone again (at most hourly), never to the screen.
        _send_link(duplicate, status_url, "again")
        return Submitted(duplicate, False, answer)
    if source != Application.Source.OFFICE:  # the office desk is one address for many people
        _throttle(phone, answer, flat, ip)
    now = clock.now()
    try:
        with transaction.atomic():
            application = _create(data, phone, tariff, flat, answer, source, ip, now)
    except IntegrityError:  # a twin request (a double click) created it a moment ago
        twin = (
            Application.objects.filter(
                phone=phone, street_text=answer.street.name, house_text=answer.house_key, flat=flat
            )
            .exclude(stage__in=Application.CLOSED)
            .get()
        )
        return Submitted(twin, False, answer)
    ApplicationEvent.objects.create(
        application=application, stage=Stage.NEW, actor=actor.user, created_at=now
    )
    _send_link(application, status_url, "received")
    audit.record(actor, "application.received", application, after={"coverage": answer.coverage})
    return Submitted(application, True, answer)


def _create(
    data: ApplicationData,
    phone: str,
    tariff: Tariff | None,
    flat: str,
    answer: coverage.Answer,
    source: str,
    ip: str | None,
    now: dt.datetime,
) -> Application:
    return Application.objects.create(
        full_name=" ".join(data.full_name.split()),
        phone=phone,
        street_text=answer.street.name,
        house_text=answer.house_key,
        flat=flat,
        building=answer.building,
        tariff=tariff,
        call_time=data.call_time,
        comment=(data.comment or "").strip(),
        consent_at=now,
        coverage=answer.coverage,
        source=source,
        source_ip=ip,
        created_at=now,
        updated_at=now,
    )


def phone_token(application: Application) -> str:
    """Only the SMS link carries it: opening the page with it proves the phone."""
    return signing.dumps(application.pk, salt=PHONE_SALT)


def _send_link(application: Application, status_url: str, why: str) -> None:
    link = status_url.replace("{id}", str(application.public_id)) + f"?t={phone_token(application)}"
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("Application №%(id)s received. Its status: %(link)s") % {
            "id": application.pk,
            "link": link,
        }
    hour = clock.now().strftime("%Y%m%d%H")
    notifications.send_sms(
        application.phone,
        text,
        kind="application_received",
        dedupe_key=f"application:{application.pk}:{why}" + (f":{hour}" if why == "again" else ""),
    )


def confirm_phone(application: Application, token: str | None) -> bool:
    """The status page opened from the SMS link (its signed token): the phone is the
    applicant's. Without the token nothing is confirmed."""
    try:
        if signing.loads(token or "", salt=PHONE_SALT) != application.pk:
            return False
    except signing.BadSignature:
        return False
    if application.phone_confirmed_at is None:
        Application.objects.filter(pk=application.pk, phone_confirmed_at__isnull=True).update(
            phone_confirmed_at=clock.now()
        )
    return True


_SMS: dict[str, Any] = {
    Stage.FEASIBLE: _("We can connect you. A specialist will call you soon to agree the details."),
    Stage.REJECTED: _("Unfortunately we cannot connect your address now: %(reason)s"),
    Stage.SIGNED: _("Your contract №%(number)s is signed. Next: the installation visit."),
    Stage.SCHEDULED: _("The installer will come on %(when)s. Please be at home."),
    Stage.ACTIVE: _("Welcome! The internet is on. Personal cabinet login: %(number)s."),
    Stage.CANCELLED: _("Your application №%(id)s is cancelled."),
}


def _locked(application_id: int) -> Application:
    return Application.objects.select_for_update().get(pk=application_id)


def _move(application: Application, stage: str, actor: Actor, note: str = "", **sms: str) -> None:
    if stage not in NEXT.get(application.stage, ()):
        raise StageConflict(
            _("An application at “%(current)s” cannot go to “%(next)s”.")
            % {
                "current": Stage(application.stage).label,
                "next": Stage(stage).label,
            }
        )
    now = clock.now()
    application.stage = stage
    application.updated_at = now
    application.save()
    ApplicationEvent.objects.create(
        application=application, stage=stage, actor=actor.user, note=note[:500], created_at=now
    )
    audit.record(
        actor,
        f"application.{stage}",
        application,
        contract_id=application.contract_id,
        after={"note": note[:200]} if note else None,
    )
    if stage in _SMS:
        with translation.override(settings.LANGUAGE_CODE):  # the applicant's, not staff's
            text = str(_SMS[stage]) % {"id": application.pk, **sms}
        notifications.send_sms(
            application.phone,
            text,
            kind=f"application_{stage}",
            contract_id=application.contract_id,
            dedupe_key=f"application:{application.pk}:{stage}:{now:%Y%m%d%H%M%S}",
        )


@transaction.atomic
def move(application_id: int, stage: str, actor: Actor, *, note: str = "") -> Application:
    """The simple steps: feasibility confirmed, called back, installed."""
    require_action(actor, "applications")
    if stage not in (Stage.FEASIBLE, Stage.CALLED, Stage.INSTALLED):
        raise StageConflict(_("Use the form for this step."))
    application = _locked(application_id)
    _move(application, stage, actor, note)
    return application


@transaction.atomic
def reject(application_id: int, reason: str, actor: Actor) -> Application:
    require_action(actor, "applications")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Give the reason: the applicant is told it.")]})
    application = _locked(application_id)
    application.rejection_reason = reason[:300]
    _move(application, Stage.REJECTED, actor, reason, reason=reason)
    return application


@transaction.atomic
def cancel(application_id: int, actor: Actor, *, reason: str = "") -> Application:
    """By staff, or by the applicant from the status page (actor without a user)."""
    if actor.user is not None:
        require_action(actor, "applications")
    application = _locked(application_id)
    if not application.is_open:
        return application
    if application.contract_id:
        raise StageConflict(_("A contract is signed: terminate it instead."))
    application.rejection_reason = reason[:300]
    _move(application, Stage.CANCELLED, actor, reason)
    InstallSlot.objects.filter(application=application).update(application=None)
    return application


@dataclass
class Signed:
    application: Application
    new: subscribers.NewContract


@transaction.atomic
def sign_contract(application_id: int, actor: Actor, *, tariff_id: int | None = None) -> Signed:
    """The contract from the application: subscriber, next number, account, network
    credentials, initial password (shown once, printed in the contract). Not charged
    until the service starts (status "connecting")."""
    require_action(actor, "sign_contract")
    application = _locked(application_id)
    if application.stage != Stage.CALLED:
        raise StageConflict(_("Call the applicant back before signing."))
    if application.building is None:
        raise StageConflict(_("The house is not in the coverage register: add it first."))
    tariff = Tariff.objects.filter(pk=tariff_id or application.tariff_id or 0).first()
    if tariff is None:
        raise ValidationFailed(fields={"tariff_id": [_("Choose a tariff from the list.")]})
    last, _sep, rest = application.full_name.partition(" ")
    first, _sep, middle = rest.partition(" ")
    new = subscribers.create_contract(
        subscribers.PersonData(
            last_name=last, first_name=first or last, middle_name=middle, phone=application.phone
        ),
        subscribers.AddressData(
            street=application.building.street.name,
            house=application.building.house,
            flat=application.flat,
        ),
        tariff,
        actor,
    )
    Contract.objects.filter(pk=new.contract.pk).update(status=Contract.Status.CONNECTING)
    new.contract.status = Contract.Status.CONNECTING
    apply_access([new.contract.pk], "contract signed")
    application.contract = new.contract
    application.tariff = tariff
    _move(application, Stage.SIGNED, actor, number=new.contract.number)
    upcoming = next_price(tariff, clock.today())
    if upcoming is not None:  # announced to the tariff's subscribers before this one joined
        from abonent.notifications.mass import tell_of_announced_price

        tell_of_announced_price(new.contract, upcoming)
    return Signed(application, new)


@transaction.atomic
def schedule(application_id: int, slot_id: int, actor: Actor) -> Application:
    require_action(actor, "applications")
    application = _locked(application_id)
    slot = InstallSlot.objects.select_for_update().filter(pk=slot_id).first()
    if slot is None or slot.starts_at <= clock.now():
        raise ValidationFailed(fields={"slot": [_("Choose a free time in the future.")]})
    if slot.application_id not in (None, application.pk):
        raise ValidationFailed(fields={"slot": [_("This time is already taken.")]})
    InstallSlot.objects.filter(application=application).exclude(pk=slot.pk).update(application=None)
    slot.application = application
    slot.save(update_fields=["application"])
    when = timezone.localtime(slot.starts_at).strftime("%d.%m %H:%M")
    _move(application, Stage.SCHEDULED, actor, str(slot), when=when)
    return application


@transaction.atomic
def activate(application_id: int, actor: Actor) -> Application:
    """The cable is in and the router online: the service starts (charging from today)."""
    require_action(actor, "applications")
    application = _locked(application_id)
    if application.stage != Stage.INSTALLED or application.contract_id is None:
        raise StageConflict(_("Mark the installation done first."))
    Contract.objects.filter(pk=application.contract_id, status=Contract.Status.CONNECTING).update(
        status=Contract.Status.ACTIVE
    )
    apply_access([application.contract_id], "service started")
    number = Contract.objects.values_list("number", flat=True).get(pk=application.contract_id)
    _move(application, Stage.ACTIVE, actor, number=number)
    if application.building_id:
        Building.objects.filter(pk=application.building_id, free_ports__gt=0).update(
            free_ports=F("free_ports") - 1
        )
    return application


def watch(phone: str, street_text: str, house_text: str) -> CoverageWatch:
    """ "Tell me when my house is connected"."""
    try:
        e164 = phones.normalize(phone or "")
    except phones.InvalidPhone:
        raise ValidationFailed(
            fields={
                "phone": [_("Enter a phone number such as +7 900 123-45-67 or 8 (900) 123-45-67.")]
            }
        ) from None
    answer = coverage.check(street_text, house_text)
    try:
        with transaction.atomic():
            return CoverageWatch.objects.create(
                phone=e164,
                street=answer.street,
                street_text=answer.street.name,
                house_key=answer.house_key,
                created_at=clock.now(),
            )
    except IntegrityError:
        return CoverageWatch.objects.get(
            phone=e164, street_text=answer.street.name, house_key=answer.house_key
        )


def notify_watchers() -> int:
    """One SMS to each person waiting for a house that can now be connected."""
    sent = 0
    for w in CoverageWatch.objects.filter(notified_at__isnull=True).select_related("street"):
        building = Building.objects.filter(street=w.street, house_key=w.house_key).first()
        if (
            building is None
            or coverage.check(w.street_text, w.house_key).coverage != Coverage.CONNECTABLE
        ):
            continue
        with transaction.atomic():
            if CoverageWatch.objects.filter(pk=w.pk, notified_at__isnull=True).update(
                notified_at=clock.now()
            ):
                notifications.send_sms(
                    w.phone,
                    gettext(
                        "Good news: %(address)s is connected now. Apply on our site or call us."
                    )
                    % {"address": str(building)},
                    kind="coverage_available",
                    dedupe_key=f"watch:{w.pk}",
                )
                sent += 1
    return sent


# --- coverage register -------------------------------------------------------------


@dataclass
class Imported:
    created: int
    updated: int
    errors: list[str]


def street_for(name: str) -> Street:
    key = street_key(name)
    street, _created = Street.objects.get_or_create(
        key=str(key), defaults={"name": name.strip(), "name_key": key.name}
    )
    return street


NETWORK_WORDS = {
    "connected": Building.Network.CONNECTED,
    "есть": Building.Network.CONNECTED,
    "да": Building.Network.CONNECTED,
    "planned": Building.Network.PLANNED,
    "стройка": Building.Network.PLANNED,
    "планируется": Building.Network.PLANNED,
    "none": Building.Network.NONE,
    "нет": Building.Network.NONE,
    "": Building.Network.NONE,
}


@transaction.atomic
def import_buildings(text: str) -> Imported:
    """CSV (";" or ","): street;house;entrances;flats;network;free_ports;planned_on.
    A row with an error is reported by its line number and skipped; the others load.
    Loading the same file again changes nothing."""
    sample = text[:2000]
    dialect = csv.Sniffer().sniff(sample, delimiters=";,") if sample.strip() else csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    created = updated = 0
    errors: list[str] = []
    for line, row in enumerate(reader, start=1):
        if not row or (line == 1 and row[0].strip().lower() in ("street", "улица")):
            continue
        row = [c.strip() for c in row] + [""] * 7
        street_name, house, entrances, flats, network, ports, planned = row[:7]
        key = house_key(house)
        if (
            not street_key(street_name).name
            or key is None
            or len(house) > 30
            or len(street_name) > 200
        ):
            errors.append(
                gettext("line %(n)s: a street and a house number are needed") % {"n": line}
            )
            continue
        try:
            values = {
                "house": house,
                "entrances": int(entrances or 1),
                "flats": int(flats or 0),
                "network": NETWORK_WORDS[network.lower()],
                "free_ports": int(ports or 0),
                "planned_on": dt.date.fromisoformat(planned) if planned else None,
            }
        except (ValueError, KeyError):
            errors.append(
                gettext("line %(n)s: numbers, network or date are not readable") % {"n": line}
            )
            continue
        _building, new = Building.objects.update_or_create(
            street=street_for(street_name), house_key=key, defaults=values
        )
        created += new
        updated += not new
    return Imported(created, updated, errors)
