"""Public (no login): the coverage answer for an address, and an application for a
connection — the same services as the web form."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext
from ninja import Query, Router, Schema, Status
from pydantic import Field

from abonent.applications import coverage
from abonent.applications import services as applications
from abonent.applications.models import Application
from abonent.core.context import Actor, client_ip
from abonent.core.errors import NotFound

from .schemas import StrictIn, one_of

router = Router(tags=["applications"], auth=None)


class AddressIn(StrictIn):
    street: str = Field(max_length=200)
    house: str = Field(max_length=30)
    flat: str = Field("", max_length=10)


class ApplicationIn(StrictIn):
    full_name: str = Field(max_length=200)
    phone: str = Field(max_length=30, description="Any common format; stored as +7XXXXXXXXXX")
    address: AddressIn
    tariff_id: int | None = None
    call_time: Annotated[str, one_of(*Application.CallTime.values)] = Application.CallTime.ANY
    comment: str = Field("", max_length=1000)
    consent: bool = Field(
        False, description="Consent to personal data processing (152-FZ); must be true"
    )


class ApplicationOut(Schema):
    id: int | None = Field(None, description="Absent for a duplicate: the link went by SMS")
    coverage: str
    message: str
    stage: str
    status_url: str | None = None
    duplicate: bool


class CoverageOut(Schema):
    coverage: str
    message: str
    street: str
    house: str


class StreetOut(Schema):
    name: str


@router.post(
    "/applications", response={201: ApplicationOut, 200: ApplicationOut}, url_name="applications"
)
def apply(request: HttpRequest, payload: ApplicationIn) -> Status:
    """201 with the coverage answer; 200 with the open application when this phone
    already applied for this address; 400 per field; 429 when throttled."""
    result = applications.submit(
        applications.ApplicationData(
            full_name=payload.full_name,
            phone=payload.phone,
            street=payload.address.street,
            house=payload.address.house,
            flat=payload.address.flat,
            tariff_id=payload.tariff_id,
            call_time=payload.call_time,
            comment=payload.comment,
            consent=payload.consent,
        ),
        source=Application.Source.API,
        ip=client_ip(request),
        status_url=request.build_absolute_uri(reverse("cabinet:apply")) + "{id}/",
        actor=Actor.from_request(request, "api"),
    )
    a = result.application
    url = reverse("cabinet:application", args=[a.public_id])
    body = ApplicationOut(
        id=a.pk if result.created else None,
        coverage=a.coverage,
        message=result.answer.message,
        stage=a.stage,
        # For a duplicate the link is sent to the phone again, not to whoever asked.
        status_url=request.build_absolute_uri(f"{url}?t={applications.phone_token(a)}")
        if result.created
        else None,
        duplicate=not result.created,
    )
    return Status(201 if result.created else 200, body)


@router.get("/coverage", response=CoverageOut, url_name="coverage")
def coverage_check(
    request: HttpRequest,
    street: str = Query(..., max_length=200),
    house: str = Query(..., max_length=30),
) -> CoverageOut:
    answer = coverage.check(street, house)
    return CoverageOut(
        coverage=answer.coverage,
        message=answer.message,
        street=answer.street.name,
        house=answer.house_key,
    )


@router.get("/coverage/streets", response=list[StreetOut], url_name="coverage_streets")
def streets(request: HttpRequest, q: str = Query("", max_length=100)) -> list[StreetOut]:
    return [StreetOut(name=s.name) for s in coverage.suggest_streets(q)]


class StageOut(Schema):
    stage: str
    at: dt.datetime


class ApplicationStatusOut(Schema):
    id: int
    stage: str
    stage_display: str
    coverage: str
    address: str
    installation_from: dt.datetime | None
    installation_to: dt.datetime | None
    history: list[StageOut]
    can_cancel: bool
    can_watch: bool


def _status(a: Application) -> ApplicationStatusOut:
    slot = getattr(a, "slot", None)
    return ApplicationStatusOut(
        id=a.pk,
        stage=a.stage,
        stage_display=str(a.get_stage_display()),
        coverage=a.coverage,
        address=a.address,
        installation_from=slot.starts_at if slot else None,
        installation_to=slot.ends_at if slot else None,
        history=[StageOut(stage=e.stage, at=e.created_at) for e in a.events.all()],
        can_cancel=a.is_open and a.contract_id is None,
        can_watch=a.is_open and a.coverage == "not_covered",
    )


def _application(public_id: uuid.UUID) -> Application:
    found = Application.objects.filter(public_id=public_id).first()
    if found is None:
        raise NotFound()
    return found


@router.get("/applications/{public_id}", response=ApplicationStatusOut, url_name="application")
def application_status(
    request: HttpRequest, public_id: uuid.UUID, t: str = ""
) -> ApplicationStatusOut:
    """The status page's data, by the unguessable id the SMS link carries (with its
    token `t`, which confirms the phone)."""
    application = _application(public_id)
    applications.confirm_phone(application, t)
    return _status(application)


@router.post(
    "/applications/{public_id}/cancel", response=ApplicationStatusOut, url_name="application_cancel"
)
def application_cancel(request: HttpRequest, public_id: uuid.UUID) -> ApplicationStatusOut:
    application = _application(public_id)
    applications.cancel(application.pk, Actor.system("api"), reason=gettext("by the applicant"))
    return _status(Application.objects.get(pk=application.pk))


@router.post("/applications/{public_id}/watch", response={204: None}, url_name="application_watch")
def application_watch(request: HttpRequest, public_id: uuid.UUID) -> Status:
    """Tell me by SMS when my house can be connected."""
    application = _application(public_id)
    applications.watch(application.phone, application.street_text, application.house_text)
    return Status(204, None)
