from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from abonent.billing.selectors import account_overview
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required

# Sections whose issues are not done yet say so plainly rather than pretend.
UPCOMING = {
    "support": (_("Support"), _("Questions to support will be here soon.")),
}


@subscriber_required
def home(request: HttpRequest) -> HttpResponse:
    overview = account_overview(contract_for_user(me(request)))
    return render(request, "cabinet/home.html", {"o": overview, "section": "home"})


@subscriber_required
def upcoming(request: HttpRequest, section: str) -> HttpResponse:
    title, text = UPCOMING[section]
    return render(
        request, "cabinet/upcoming.html", {"title": title, "text": text, "section": section}
    )
