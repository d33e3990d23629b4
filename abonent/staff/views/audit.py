"""The audit log for managers: who did what and who read whose data, searchable and
exportable per subscriber (the answer to a 152-FZ "who accessed my data" request)."""

from __future__ import annotations

import csv
import io

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.accounts.permissions import STAFF_ACTIONS
from abonent.core import audit
from abonent.core.context import Actor
from abonent.core.models import AuditLog
from abonent.subscribers.models import Contract

from ..access import staff_required

PAGE = 200


class AuditFilter(forms.Form):
    contract = forms.CharField(label=_("Contract number"), required=False, max_length=12)
    actor = forms.CharField(label=_("Staff login"), required=False, max_length=150)
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_contract(self) -> str:
        number = self.cleaned_data["contract"].strip()
        if number and not Contract.objects.filter(number=number).exists():
            raise forms.ValidationError(_("There is no such contract."))
        return number


def _rows(data: dict) -> QuerySet[AuditLog]:
    rows = AuditLog.objects.select_related("actor").order_by("-created_at", "-id")
    if data.get("contract"):
        rows = rows.filter(contract_id=Contract.objects.get(number=data["contract"]).pk)
    if data.get("actor"):
        rows = rows.filter(actor__username=data["actor"].strip().lower())
    if data.get("action"):
        rows = rows.filter(action__startswith=data["action"].strip())
    if data.get("date_from"):
        rows = rows.filter(created_at__date__gte=data["date_from"])
    if data.get("date_to"):
        rows = rows.filter(created_at__date__lte=data["date_to"])
    return rows


@staff_required(*STAFF_ACTIONS["audit_log"])
def audit_view(request: HttpRequest) -> HttpResponse:
    form = AuditFilter(request.GET or None)
    rows: QuerySet[AuditLog] | list = []
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        rows = _rows(data)
        if request.GET.get("format") == "csv":
            return _csv(request, rows, data)
        rows = rows[:PAGE]
    return render(request, "staff/audit.html", {"form": form, "rows": rows, "section": "audit"})


def _csv(request: HttpRequest, rows: QuerySet[AuditLog], data: dict) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [
            gettext("Time"),
            gettext("Who"),
            gettext("Channel"),
            gettext("Action"),
            "IP",
            gettext("Object"),
        ]
    )
    for row in rows.iterator():
        who = row.actor.username if row.actor else row.channel
        writer.writerow(
            [
                timezone.localtime(row.created_at).strftime("%d.%m.%Y %H:%M:%S"),
                who,
                row.channel,
                row.action,
                row.ip or "",
                f"{row.object_type}:{row.object_id}",
            ]
        )
    # Exporting someone's access log is itself an access to their data.
    if data.get("contract"):
        contract = Contract.objects.get(number=data["contract"])
        audit.record(
            Actor.from_request(request, "admin"),
            "audit.exported",
            contract,
            contract_id=contract.pk,
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"audit-{data.get('contract') or 'all'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
