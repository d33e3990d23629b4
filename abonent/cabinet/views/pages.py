from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from abonent.core import clock
from abonent.support.selectors import home_for_user

from ..access import me, subscriber_required


@subscriber_required
def home(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    overview, outages = home_for_user(me(request), now)
    context = {"o": overview, "outages": outages, "now": now, "section": "home"}
    return render(request, "cabinet/home.html", context)
