from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from abonent.billing.selectors import account_overview
from abonent.core import clock
from abonent.subscribers.selectors import contract_for_user
from abonent.support.selectors import upcoming_outages

from ..access import me, subscriber_required


@subscriber_required
def home(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    overview = account_overview(contract)
    now = clock.now()
    outages = upcoming_outages(contract.address, now)
    context = {"o": overview, "outages": outages, "now": now, "section": "home"}
    return render(request, "cabinet/home.html", context)
