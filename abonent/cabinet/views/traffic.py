from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from abonent.core.errors import ValidationFailed
from abonent.network import selectors
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required
from .util import apply_domain_error


class TrafficFilter(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    granularity = forms.ChoiceField(
        label=_("By"), choices=[("day", _("days")), ("month", _("months"))], required=False
    )


@subscriber_required
def traffic_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    form = TrafficFilter(request.GET or None)
    rows, sessions = [], []
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        try:
            rows = selectors.traffic(
                contract,
                data.get("date_from"),
                data.get("date_to"),
                data.get("granularity") or "day",
            )
            sessions = selectors.sessions(
                contract, data.get("date_from"), data.get("date_to"), limit=50
            )
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
    peak = max([r.bytes_in + r.bytes_out for r in rows] or [1]) or 1
    bars = [(r, round(100 * (r.bytes_in + r.bytes_out) / peak)) for r in rows]
    return render(
        request,
        "cabinet/traffic.html",
        {
            "form": form,
            "bars": bars,
            "sessions": sessions,
            "online": selectors.online(contract),
            "total_in": sum(r.bytes_in for r in rows),
            "total_out": sum(r.bytes_out for r in rows),
            "section": "traffic",
        },
    )
