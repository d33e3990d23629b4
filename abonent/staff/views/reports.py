"""Management reports for managers and administrators: one page with every section
(a chart and a table each) for a period, and each section as CSV or XLSX. The figures
come from `abonent.reports`; these views only read the period and render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from abonent.accounts.permissions import STAFF_ACTIONS
from abonent.core import audit, clock, periods
from abonent.core.context import Actor
from abonent.core.errors import ValidationFailed
from abonent.reports import tables
from abonent.reports.periods import DAY, MONTH, ReportPeriod

from ..access import staff_required

ROLES = STAFF_ACTIONS["reports"]  # manager, admin
LATEST = dt.date(2100, 12, 31)
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ROWS_SHOWN_OPEN = 31  # longer tables are folded under "details"


class PeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    granularity = forms.ChoiceField(
        label=_("Step"),
        required=False,
        choices=[(DAY, _("By day")), (MONTH, _("By month"))],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        date_to = data.get("date_to") or clock.today()
        date_from = data.get("date_from") or date_to.replace(day=1)
        for name, day in (("date_from", date_from), ("date_to", date_to)):
            if day > LATEST:
                self.add_error(name, _("Enter a valid date."))
        if self.errors:
            return data
        try:
            first, last = periods.period(date_from, date_to, default_days=1)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    self.add_error("date_to" if name == "to" else "date_from", str(message))
            return data
        data["period"] = ReportPeriod(first, last, data.get("granularity") or DAY)
        return data


def _period(request: HttpRequest) -> tuple[PeriodForm, ReportPeriod | None]:
    form = PeriodForm(request.GET)
    return form, form.cleaned_data["period"] if form.is_valid() else None


def _query(period: ReportPeriod) -> str:
    return urlencode(
        {
            "date_from": period.first.isoformat(),
            "date_to": period.last.isoformat(),
            "granularity": period.granularity,
        }
    )


def _audit_debtors(request: HttpRequest, section: tables.Section) -> None:
    """Names of debtors on the screen or in a file are a read of personal data."""
    top = next((t for t in section.tables if t.key == "top-debtors"), None)
    if top is None:
        return
    audit.record(
        Actor.from_request(request, "admin"),
        "reports.debtors_viewed",
        request.user,  # type: ignore[arg-type]
        after={"contracts": [row[0] for row in top.rows]},
    )


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    height: int  # 0..100, a CSS class (the CSP allows no inline styles)


@dataclass(frozen=True)
class ShownTable:
    table: tables.Table
    rows: list[list[Cell]]
    total: list[Cell] | None
    bars: list[Bar]

    @property
    def folded(self) -> bool:
        return len(self.rows) > ROWS_SHOWN_OPEN


def _cells(table: tables.Table, row: list[Any]) -> list[Cell]:
    return [
        Cell(value if isinstance(value, str) else tables.display(value, c.kind), c.numeric)
        for value, c in zip(row, table.columns, strict=True)
    ]


def _bar_label(value: Any, kind: str) -> str:
    if isinstance(value, dt.date):
        return formats.date_format(value, "j" if kind == tables.DAY_KIND else "m.y")
    text = str(value)
    return text if len(text) <= 12 else text[:11] + "…"


def _bars(table: tables.Table) -> list[Bar]:
    if table.chart is None:
        return []
    column = table.columns[table.chart]
    values = [row[table.chart] or 0 for row in table.rows]
    peak = max([v for v in values if v > 0] or [1])
    bars = []
    for row, value in zip(table.rows, values, strict=True):
        parts = [row[i] for i in table.chart_labels if row[i] not in (None, "")]
        kinds = [table.columns[i].kind for i in table.chart_labels if row[i] not in (None, "")]
        label = " ".join(_bar_label(p, k) for p, k in zip(parts, kinds, strict=True))
        full = " ".join(
            p if isinstance(p, str) else tables.display(p, k)
            for p, k in zip(parts, kinds, strict=True)
        )
        bars.append(
            Bar(
                label=label,
                title=f"{full}: {tables.display(row[table.chart], column.kind)}",
                height=round(100 * max(value, 0) / peak),
            )
        )
    return bars


def _shown(table: tables.Table) -> ShownTable:
    return ShownTable(
        table=table,
        rows=[_cells(table, row) for row in table.rows],
        total=_cells(table, table.total) if table.total is not None else None,
        bars=_bars(table),
    )


@staff_required(*ROLES)
@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    context: dict[str, Any] = {"section": "reports", "form": form}
    if period is not None:
        today = clock.today()
        sections = [tables.section(name, period, today) for name in tables.SECTIONS]
        for sec in sections:
            if sec.name == "debtors":
                _audit_debtors(request, sec)
        context.update(
            form=PeriodForm(  # the period shown, also when the form was left empty
                initial={
                    "date_from": period.first,
                    "date_to": period.last,
                    "granularity": period.granularity,
                }
            ),
            period=period,
            query=_query(period),
            quality_month=period.first.strftime("%Y-%m"),
            report_sections=[
                {"section": sec, "tables": [_shown(t) for t in sec.tables]} for sec in sections
            ],
        )
    return render(request, "staff/reports.html", context)


# --------------------------------------------------------------------------- downloads


@staff_required(*ROLES)
@require_GET
def export_view(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    if name not in tables.SECTIONS or fmt not in FORMATS:
        raise Http404
    _form, period = _period(request)
    if period is None:  # the page shows why
        return redirect(f"{reverse('staff:reports')}?{request.GET.urlencode()}")
    today = clock.today()
    sec = tables.section(name, period, today)
    if name == "debtors":
        _audit_debtors(request, sec)
        filename = f"debtors-{today:%Y-%m-%d}.{fmt}"
    else:
        filename = f"{name}-{period.first:%Y-%m-%d}-{period.last:%Y-%m-%d}.{fmt}"
    body = tables.to_csv(sec, period) if fmt == "csv" else tables.to_xlsx(sec, period)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
