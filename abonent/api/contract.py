"""The subscriber's contract, as the cabinet's "My contract" page shows it, and the
contract as a PDF (never with a password)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from abonent.subscribers import documents
from abonent.subscribers.selectors import contract_for_user

from .account import addons_out, tariff_out
from .schemas import AddOnOut, TariffOut
from .security import me

router = Router(tags=["contract"])


class ContractOut(Schema):
    contract_number: str
    signed_on: dt.date
    status: str
    status_display: str
    full_name: str
    address: str
    tariff: TariffOut
    addons: list[AddOnOut]
    pppoe_login: str | None


@router.get("/contract", response=ContractOut, url_name="contract")
def contract(request: HttpRequest) -> ContractOut:
    found = contract_for_user(me(request))
    tariff = found.tariff
    credential = getattr(found, "credential", None)
    return ContractOut(
        contract_number=found.number,
        signed_on=found.signed_on,
        status=found.status,
        status_display=str(found.get_status_display()),
        full_name=found.subscriber.full_name,
        address=str(found.address),
        tariff=tariff_out(tariff),
        addons=addons_out(found),
        pppoe_login=credential.login if credential is not None else None,
    )


@router.get(
    "/contract/pdf",
    url_name="contract_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "The contract as a PDF, without the cabinet password",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def contract_pdf(request: HttpRequest) -> HttpResponse:
    found = contract_for_user(me(request))
    response = HttpResponse(
        documents.contract_pdf(found, password=None), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="contract-{found.number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
