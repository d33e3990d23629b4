"""My contract: what was signed (number, date, address, tariff, add-ons, router login)
and the contract as a PDF. The password is never in it: the subscriber knows it or
recovers it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from abonent.subscribers import documents
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required


@subscriber_required
def contract_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    return render(
        request,
        "cabinet/contract.html",
        {
            "contract": contract,
            "addons": list(contract.addons.all()),
            "credential": getattr(contract, "credential", None),
            "section": "profile",
        },
    )


@subscriber_required
@never_cache
def contract_pdf_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    response = HttpResponse(
        documents.contract_pdf(contract, password=None), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="contract-{contract.number}.pdf"'
    return response
