"""Quality control: the dashboard of a month and its report as PDF and CSV. The figures
come from `abonent.quality.metrics`; these views only pick the month and render."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from abonent.core import clock
from abonent.quality import metrics
from abonent.quality import report as documents

from ..access import staff_required

ROLES = ("manager", "admin", "operator", "technician")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthForm(forms.Form):
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def clean_month(self) -> dt.date:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return clock.today().replace(day=1)
        match = MONTH.match(value)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return dt.date(year, month, 1)
        raise forms.ValidationError(
            _("Enter a month as YYYY-MM, for example %(example)s."),
            params={"example": clock.today().strftime("%Y-%m")},
        )


def _month(request: HttpRequest) -> tuple[MonthForm, dt.date | None]:
    form = MonthForm(request.GET)
    return form, form.cleaned_data["month"] if form.is_valid() else None


def _shift(first: dt.date, months: int) -> str:
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@staff_required(*ROLES)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    form, first = _month(request)
    context: dict = {"section": "quality", "form": form}
    if first is not None:
        result = metrics.report(metrics.Period.month(first))
        peak = max([d.drops for d in result.days] or [0]) or 1
        context.update(
            report=result,
            bars=[(d, round(100 * d.drops / peak)) for d in result.days],
            month=first.strftime("%Y-%m"),
            previous_month=_shift(first, -1),
            next_month=_shift(first, 1),
        )
    return render(request, "staff/quality.html", context)


def _download(request: HttpRequest, kind: str) -> HttpResponse:
    _form, first = _month(request)
    if first is None:  # the dashboard shows why
        return redirect(f"{reverse('staff:quality')}?{request.GET.urlencode()}")
    result = metrics.report(metrics.Period.month(first))
    name = f"quality-{first:%Y-%m}.{kind}"
    if kind == "pdf":
        response = HttpResponse(documents.report_pdf(result), content_type="application/pdf")
    else:
        response = HttpResponse(
            documents.report_csv(result), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required(*ROLES)
def report_pdf_view(request: HttpRequest) -> HttpResponse:
    return _download(request, "pdf")


@staff_required(*ROLES)
def report_csv_view(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv")
