"""Services, suspension, promised payment and the statement: the same lifecycle
functions the web cabinet calls."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Header, Query, Router, Status

from abonent.billing import documents, lifecycle
from abonent.billing.models import Suspension, TariffChange
from abonent.billing.selectors import statement
from abonent.catalog.models import AddOn
from abonent.core.errors import ValidationFailed
from abonent.subscribers.models import Contract
from abonent.subscribers.selectors import contract_for_user

from .schemas import (
    AddOnCatalogOut,
    AddOnPreviewOut,
    CatalogTariffOut,
    MoneyOut,
    PriceChangeOut,
    PromisedPaymentIn,
    PromisedPaymentOut,
    StatementLineOut,
    StatementOut,
    SuspensionIn,
    SuspensionOut,
    SuspensionPreviewOut,
    TariffChangeIn,
    TariffChangeOut,
    TariffChangePreviewOut,
    one_of,
)
from .security import api_actor, me

router = Router(tags=["services"])


def rub(kopecks: int) -> MoneyOut:
    return MoneyOut(amount=kopecks, currency="RUB")


def mine(request: HttpRequest) -> Contract:
    return contract_for_user(me(request))


def _change_out(change: TariffChange) -> TariffChangeOut:
    return TariffChangeOut(
        id=change.pk,
        from_tariff_id=change.from_tariff_id,
        to_tariff_id=change.to_tariff_id,
        effective_date=change.effective_date,
        status=change.status,
    )


@router.get("/tariffs", response=list[CatalogTariffOut], url_name="tariffs")
def tariffs(request: HttpRequest) -> list[CatalogTariffOut]:
    contract = mine(request)
    return [
        CatalogTariffOut(
            id=t.pk,
            name=t.name,
            description=t.description,
            price=rub(t.monthly_price),
            speed_mbps=t.speed_in_mbps,
            speed_out_mbps=t.speed_out_mbps,
            charging_mode=t.charging_mode,
            change_fee=rub(t.change_fee),
            current=t.pk == contract.tariff_id,
        )
        for t in lifecycle.tariffs_open_to(contract)
    ]


@router.post(
    "/tariff-changes/preview", response=TariffChangePreviewOut, url_name="tariff_change_preview"
)
def tariff_change_preview(request: HttpRequest, payload: TariffChangeIn) -> TariffChangePreviewOut:
    plan = lifecycle.plan_tariff_change(mine(request), payload.tariff_id)
    return TariffChangePreviewOut(
        tariff_id=plan.tariff.pk,
        immediate=plan.immediate,
        effective_date=plan.effective_date,
        charge_today=rub(plan.charge_today),
        refund_today=rub(plan.refund_today),
        fee=rub(plan.fee),
        new_monthly_price=rub(plan.new_monthly_price),
        days_left_after=plan.days_left_after,
        price_change=(
            PriceChangeOut(
                valid_from=plan.price_change.valid_from,
                monthly_price=rub(plan.price_change.monthly_price),
            )
            if plan.price_change is not None
            else None
        ),
    )


def client_idempotency_key(request: HttpRequest, key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > 100 or any(ord(ch) < 33 for ch in key):
        raise ValidationFailed(
            fields={
                "Idempotency-Key": [
                    _("Send a unique Idempotency-Key header (up to 100 characters).")
                ]
            }
        )
    return f"api:{me(request).pk}:{key}"


@router.post("/tariff-changes", response={201: TariffChangeOut}, url_name="tariff_changes")
def tariff_change(
    request: HttpRequest,
    payload: TariffChangeIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key"),
) -> Status:
    key = client_idempotency_key(request, idempotency_key)
    change = lifecycle.change_tariff(mine(request).pk, payload.tariff_id, api_actor(request), key)
    return Status(201, _change_out(change))


@router.delete("/tariff-changes/{change_id}", response={204: None}, url_name="tariff_change_cancel")
def tariff_change_cancel(request: HttpRequest, change_id: int) -> Status:
    lifecycle.cancel_tariff_change(mine(request).pk, change_id, api_actor(request))
    return Status(204, None)


@router.get("/addons", response=list[AddOnCatalogOut], url_name="addons")
def addons(request: HttpRequest) -> list[AddOnCatalogOut]:
    contract = mine(request)
    active = {link.addon_id for link in contract.addons.all() if link.disconnected_on is None}
    return [
        AddOnCatalogOut(
            id=a.pk,
            name=a.name,
            description=a.description,
            price=rub(a.price),
            billing=a.billing,
            active=a.pk in active,
        )
        for a in AddOn.objects.filter(is_archived=False).order_by("name")
    ]


def _addon_out(plan: lifecycle.AddOnPlan) -> AddOnPreviewOut:
    return AddOnPreviewOut(
        addon_id=plan.addon.pk,
        connect=plan.connect,
        charge_today=rub(plan.charge_today),
        refund_today=rub(plan.refund_today),
        new_monthly_total=rub(plan.new_monthly_total),
    )


@router.post(
    "/addons/{addon_id}",
    response={200: AddOnPreviewOut, 201: AddOnPreviewOut},
    url_name="addon_connect",
)
def addon_connect(request: HttpRequest, addon_id: int, preview: bool = False) -> Status:
    """`?preview=1` shows what connecting costs without doing it."""
    if preview:
        return Status(200, _addon_out(lifecycle.plan_addon(mine(request), addon_id, True)))
    return Status(
        201, _addon_out(lifecycle.set_addon(mine(request).pk, addon_id, True, api_actor(request)))
    )


@router.delete("/addons/{addon_id}", response=AddOnPreviewOut, url_name="addon_disconnect")
def addon_disconnect(request: HttpRequest, addon_id: int, preview: bool = False) -> AddOnPreviewOut:
    if preview:
        return _addon_out(lifecycle.plan_addon(mine(request), addon_id, False))
    return _addon_out(lifecycle.set_addon(mine(request).pk, addon_id, False, api_actor(request)))


@router.post("/suspensions/preview", response=SuspensionPreviewOut, url_name="suspension_preview")
def suspension_preview(request: HttpRequest, payload: SuspensionIn) -> SuspensionPreviewOut:
    plan = lifecycle.plan_suspension(mine(request), payload.start_date, payload.end_date)
    return SuspensionPreviewOut(
        start_date=plan.start_date,
        end_date=plan.end_date,
        days=plan.days,
        fee=rub(plan.fee),
        charges_stop_per_month=rub(plan.stops_per_month),
        keeps_charging_per_month=rub(plan.keeps_per_month),
        days_left_this_year=plan.days_left_this_year,
        min_days=plan.min_days,
        max_days=plan.max_days,
    )


def _suspension_out(s: Suspension) -> SuspensionOut:
    return SuspensionOut(
        id=s.pk, start_date=s.start_date, end_date=s.end_date, status=s.status, fee=rub(s.fee)
    )


@router.post("/suspensions", response={201: SuspensionOut}, url_name="suspensions")
def suspension_create(request: HttpRequest, payload: SuspensionIn) -> Status:
    s = lifecycle.suspend(
        mine(request).pk, payload.start_date, payload.end_date, api_actor(request)
    )
    return Status(201, _suspension_out(s))


@router.post(
    "/suspensions/{suspension_id}/resume", response={204: None}, url_name="suspension_resume"
)
def suspension_resume(request: HttpRequest, suspension_id: int) -> Status:
    lifecycle.resume(mine(request).pk, suspension_id, api_actor(request))
    return Status(204, None)


@router.delete("/suspensions/{suspension_id}", response={204: None}, url_name="suspension_cancel")
def suspension_cancel(request: HttpRequest, suspension_id: int) -> Status:
    lifecycle.cancel_suspension(mine(request).pk, suspension_id, api_actor(request))
    return Status(204, None)


@router.post("/promised-payment", response={201: PromisedPaymentOut}, url_name="promised_payment")
def promised_payment(request: HttpRequest, payload: PromisedPaymentIn) -> Status:
    p = lifecycle.take_promise(mine(request).pk, payload.amount, api_actor(request))
    return Status(
        201,
        PromisedPaymentOut(
            id=p.pk, amount=rub(p.amount), fee=rub(p.fee), expires_on=p.expires_on, status=p.status
        ),
    )


_FILE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/account/statement",
    response=StatementOut,
    url_name="statement",
    openapi_extra={
        "responses": {
            200: {
                "description": "JSON; or the statement as a file with `format=csv|pdf`",
                "content": {"text/csv": _FILE, "application/pdf": _FILE},
            }
        }
    },
)
def account_statement(
    request: HttpRequest,
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
    format: Annotated[str, one_of("json", "csv", "pdf")] = "json",
) -> StatementOut | HttpResponse:
    contract = mine(request)
    result = statement(contract, date_from, date_to)
    if format == "csv":
        response = HttpResponse(
            documents.statement_csv(contract, result), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="statement-{contract.number}.csv"'
        return response
    if format == "pdf":
        response = HttpResponse(
            documents.statement_pdf(contract, result), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="statement-{contract.number}.pdf"'
        return response
    if format != "json":
        raise ValidationFailed(fields={"format": [_("Choose json, csv or pdf.")]})
    return StatementOut(
        date_from=result.date_from,
        date_to=result.date_to,
        opening_balance=rub(result.opening),
        closing_balance=rub(result.closing),
        entries=[
            StatementLineOut(
                id=line.entry.pk,
                date=line.entry.effective_date,
                kind=line.entry.kind,
                kind_display=str(line.entry.get_kind_display()),
                description=line.entry.description,
                amount=rub(line.entry.amount),
                balance_after=rub(line.balance_after),
            )
            for line in result.lines
        ],
    )
