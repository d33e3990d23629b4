"""Support: the subscriber's tickets, their conversation with attachments, closing,
reopening and rating, and the outages at the subscriber's address — through the same
support services the web cabinet calls.

Writes that may carry files (opening a ticket, a reply) take multipart/form-data with
files under `attachments`, or a plain JSON body when there is nothing to attach."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import pydantic
from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Header, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.models import FileModel, FormModel, Param
from ninja.types import DictStrAny
from pydantic import Field

from abonent.core import clock
from abonent.core.errors import NotFound, ValidationFailed
from abonent.subscribers.models import Contract
from abonent.subscribers.selectors import contract_for_user
from abonent.support import selectors, services
from abonent.support.attachments import SANDBOX_POLICY
from abonent.support.models import Attachment, Category, Ticket, TicketMessage

from .schemas import StrictIn, one_of, text_of
from .security import api_actor, me

logger = logging.getLogger(__name__)
router = Router(tags=["support"])

FORM_CONTENT_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


# --- Request bodies: multipart/form-data (with files) or JSON -------------------------


def _body_errors(model: Any, exc: pydantic.ValidationError) -> NinjaValidationError:
    """Field errors named by the field alone, as for a JSON body."""
    reverse_map = model.__ninja_flatten_map_reverse__
    errors: list[dict[str, Any]] = []
    for error in exc.errors(include_url=False):
        loc = reverse_map.get(error["loc"], error["loc"])
        errors.append({"type": error["type"], "loc": ("body", *loc), "msg": error["msg"]})
    return NinjaValidationError(errors)


class FormOrJsonModel(FormModel):
    @classmethod
    def get_request_data(
        cls, request: HttpRequest, api: Any, path_params: DictStrAny
    ) -> DictStrAny | None:
        data: Any
        if request.content_type in FORM_CONTENT_TYPES:
            data = super().get_request_data(request, api, path_params) or {}
        elif request.body:
            try:
                data = api.parser.parse_body(request)
            except Exception as exc:
                raise HttpError(400, "Cannot parse request body") from exc
        else:
            data = {}
        if not isinstance(data, dict):
            raise NinjaValidationError([{"type": "dict_type", "loc": ("body",), "msg": ""}])
        known = set(cls.__ninja_flatten_map__)  # type: ignore[attr-defined]
        unknown = sorted(set(data) - known)
        if unknown:
            raise NinjaValidationError(
                [{"type": "extra_forbidden", "loc": ("body", name), "msg": ""} for name in unknown]
            )
        return data

    @classmethod
    def resolve(cls, request: HttpRequest, api: Any, path_params: DictStrAny) -> Any:
        try:
            return super().resolve(request, api, path_params)
        except pydantic.ValidationError as exc:
            raise _body_errors(cls, exc) from exc


class AttachmentsModel(FileModel):
    @classmethod
    def get_request_data(
        cls, request: HttpRequest, api: Any, path_params: DictStrAny
    ) -> DictStrAny | None:
        if request.content_type != "multipart/form-data":
            return {}
        return super().get_request_data(request, api, path_params)

    @classmethod
    def resolve(cls, request: HttpRequest, api: Any, path_params: DictStrAny) -> Any:
        try:
            return super().resolve(request, api, path_params)
        except pydantic.ValidationError as exc:
            raise _body_errors(cls, exc) from exc


class FormOrJson(Param):  # type: ignore[misc]
    """A schema read from form fields, or from a JSON object when the request is JSON:
    `payload: Annotated[Schema, FormOrJson(...)]`."""

    _model = FormOrJsonModel

    @classmethod
    def _param_source(cls) -> str:
        return "form"


class Attachments(Param):  # type: ignore[misc]
    """Files of a multipart request (none for a JSON request):
    `attachments: Annotated[list[UploadedFile] | None, Attachments(None)] = None`."""

    _model = AttachmentsModel

    @classmethod
    def _param_source(cls) -> str:
        return "file"


def _json_alternative(schema: str) -> dict[str, Any]:
    """OpenAPI: the same body may also come as JSON, without files."""
    return {
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
        }
    }


def _uploads(request: HttpRequest, files: list[UploadedFile] | None) -> list[UploadedFile]:
    """The files to hand to the service. A name sent with a path in it arrives marked
    (`support.uploads`) and the service refuses it with its own message."""
    return list(files or [])


# --- Schemas -----------------------------------------------------------------------


# Required; the values are checked by the support service, with its messages.
class TicketIn(StrictIn):
    category: Annotated[str, one_of(*Category.values)]
    subject: Annotated[str, text_of(150)]
    text: Annotated[str, text_of(services.MAX_TEXT)]


class MessageIn(StrictIn):
    text: Annotated[str, text_of(services.MAX_TEXT)]


class RatingIn(StrictIn):
    # Checked by the support service, so that "x", 0 or 6 get its message.
    score: Any = Field(None, json_schema_extra={"type": "integer", "minimum": 1, "maximum": 5})
    comment: str | None = Field("", description="Up to 1000 characters")


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int = Field(description="Bytes")
    url: str


class MessageOut(Schema):
    id: int
    text: str
    from_staff: bool
    created_at: dt.datetime
    attachments: list[AttachmentOut]


class TicketOut(Schema):
    id: int
    category: str
    category_display: str
    subject: str
    status: str
    status_display: str
    created_at: dt.datetime
    updated_at: dt.datetime
    rating: int | None


class TicketOutageOut(Schema):
    title: str
    text: str
    starts_at: dt.datetime
    expected_end_at: dt.datetime | None
    ended_at: dt.datetime | None


class TicketDetailOut(TicketOut):
    rating_comment: str
    messages: list[MessageOut]
    outage: TicketOutageOut | None
    can_reopen: bool
    can_rate: bool


class OutageOut(Schema):
    id: int
    title: str
    text: str
    starts_at: dt.datetime
    expected_end_at: dt.datetime | None


# --- Building the answers ----------------------------------------------------------


def mine(request: HttpRequest) -> Contract:
    return contract_for_user(me(request))


def _attachment_out(request: HttpRequest, ticket_id: int, a: Attachment) -> AttachmentOut:
    url = reverse(
        "api-v1:ticket_attachment", kwargs={"ticket_id": ticket_id, "attachment_id": a.pk}
    )
    return AttachmentOut(
        id=a.pk,
        name=a.name,
        content_type=a.content_type,
        size=a.size,
        url=request.build_absolute_uri(url),
    )


def _message_out(request: HttpRequest, m: TicketMessage) -> MessageOut:
    return MessageOut(
        id=m.pk,
        text=m.text,
        from_staff=m.from_staff,
        created_at=m.created_at,
        attachments=[_attachment_out(request, m.ticket_id, a) for a in m.attachments.all()],
    )


def _ticket_fields(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.pk,
        "category": t.category,
        "category_display": str(t.get_category_display()),
        "subject": t.subject,
        "status": t.status,
        "status_display": str(t.get_status_display()),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "rating": t.rating,
    }


def _can_reopen(t: Ticket) -> bool:
    """The reopen window of the support service, shown before the subscriber tries."""
    if t.is_open:
        return False
    ended = t.closed_at or t.resolved_at or t.updated_at
    return clock.now() - ended <= dt.timedelta(days=settings.TICKET_REOPEN_DAYS)


def _detail(request: HttpRequest, contract: Contract, ticket_id: int) -> TicketDetailOut:
    ticket = selectors.ticket_for(contract, ticket_id)
    visible: list[TicketMessage] = getattr(ticket, "visible_messages", [])
    outage = ticket.outage
    return TicketDetailOut(
        **_ticket_fields(ticket),
        rating_comment=ticket.rating_comment,
        messages=[_message_out(request, m) for m in visible],
        outage=(
            TicketOutageOut(
                title=outage.title,
                text=outage.text,
                starts_at=outage.starts_at,
                expected_end_at=outage.expected_end_at,
                ended_at=outage.ended_at,
            )
            if outage is not None
            else None
        ),
        can_reopen=_can_reopen(ticket),
        can_rate=not ticket.is_open and ticket.rating is None,
    )


def _own(contract: Contract, ticket_id: int) -> Ticket:
    """This subscriber's ticket; anyone else's (or none) is a 404."""
    return selectors.ticket_for(contract, ticket_id)


def _open_key(key: str | None) -> str | None:
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > 100 or any(ord(ch) < 33 for ch in key):
        raise ValidationFailed(
            fields={
                "Idempotency-Key": [
                    _("Send a unique Idempotency-Key header (up to 100 characters).")
                ]
            }
        )
    return key


# --- Operations --------------------------------------------------------------------


@router.get("/tickets", response=list[TicketOut], url_name="tickets")
def ticket_list(request: HttpRequest) -> list[TicketOut]:
    """The subscriber's tickets, newest first."""
    return [TicketOut(**_ticket_fields(t)) for t in selectors.tickets_for(mine(request))]


@router.post(
    "/tickets",
    response={201: TicketDetailOut},
    url_name="tickets_open",
    openapi_extra=_json_alternative("TicketIn"),
)
def ticket_open(
    request: HttpRequest,
    payload: Annotated[TicketIn, FormOrJson(...)],
    attachments: Annotated[list[UploadedFile] | None, Attachments(None)] = None,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status:
    """Open a ticket: form fields plus files under `attachments`, or JSON without files.
    The same `Idempotency-Key` opens one ticket."""
    contract = mine(request)
    ticket = services.open_ticket(
        contract,
        category=payload.category,
        subject=payload.subject,
        text=payload.text,
        files=_uploads(request, attachments),
        actor=api_actor(request),
        key=_open_key(idempotency_key),
    )
    return Status(201, _detail(request, contract, ticket.pk))


@router.get("/tickets/{ticket_id}", response=TicketDetailOut, url_name="ticket")
def ticket_detail(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    """The ticket with the conversation the subscriber may see."""
    return _detail(request, mine(request), ticket_id)


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut},
    url_name="ticket_messages",
    openapi_extra=_json_alternative("MessageIn"),
)
def ticket_reply(
    request: HttpRequest,
    ticket_id: int,
    payload: Annotated[MessageIn, FormOrJson(...)],
    attachments: Annotated[list[UploadedFile] | None, Attachments(None)] = None,
) -> Status:
    """Write to support; a resolved or closed ticket is reopened (within the window)."""
    ticket = _own(mine(request), ticket_id)
    message = services.subscriber_reply(
        ticket.pk, payload.text, _uploads(request, attachments), api_actor(request)
    )
    return Status(201, _message_out(request, message))


@router.post("/tickets/{ticket_id}/close", response=TicketDetailOut, url_name="ticket_close")
def ticket_close(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    contract = mine(request)
    services.close(_own(contract, ticket_id).pk, api_actor(request))
    return _detail(request, contract, ticket_id)


@router.post("/tickets/{ticket_id}/reopen", response=TicketDetailOut, url_name="ticket_reopen")
def ticket_reopen(request: HttpRequest, ticket_id: int) -> TicketDetailOut:
    """`409 policy_violation` once the reopen window has passed."""
    contract = mine(request)
    services.reopen(_own(contract, ticket_id).pk, api_actor(request))
    return _detail(request, contract, ticket_id)


@router.post("/tickets/{ticket_id}/rating", response=TicketDetailOut, url_name="ticket_rating")
def ticket_rate(request: HttpRequest, ticket_id: int, payload: RatingIn) -> TicketDetailOut:
    """Rate a resolved or closed ticket once, 1–5; rating a resolved ticket closes it."""
    contract = mine(request)
    score = payload.score
    if isinstance(score, float):  # 4.0 is 4, but 4.5 is not quietly rounded down
        score = int(score) if score.is_integer() else None
    services.rate(_own(contract, ticket_id).pk, score, payload.comment or "", api_actor(request))
    return _detail(request, contract, ticket_id)


@router.get(
    "/tickets/{ticket_id}/attachments/{attachment_id}",
    url_name="ticket_attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment under its original name",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def ticket_attachment(request: HttpRequest, ticket_id: int, attachment_id: int) -> FileResponse:
    attachment = selectors.attachment_for_subscriber(mine(request), attachment_id)
    if attachment.message.ticket_id != ticket_id:
        raise NotFound()
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        logger.warning("Attachment %s has no file in storage", attachment.pk)
        raise NotFound() from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = SANDBOX_POLICY  # as on the web
    return response


@router.get("/outages", response=list[OutageOut], url_name="outages")
def outages(request: HttpRequest) -> list[OutageOut]:
    """Outages going on now or planned within a week at the subscriber's address."""
    return [
        OutageOut(
            id=o.pk,
            title=o.title,
            text=o.text,
            starts_at=o.starts_at,
            expected_end_at=o.expected_end_at,
        )
        for o in selectors.outages_at(mine(request).address, clock.now())
    ]
