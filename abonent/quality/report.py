"""The monthly quality report as a document: PDF (fpdf2, DejaVu fonts) and CSV for a
Russian Excel (UTF-8 with a BOM, semicolons, decimal commas in the Russian locale).
Both show the figures of `metrics.Report`, the same the dashboard shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, timezone
from django.utils.translation import gettext
from fpdf import FPDF

from abonent.core.pdf import new_document

from .metrics import Report

DASH = "—"


def number(value: float | int | None, decimals: int = 1) -> str:
    if value is None:
        return DASH
    if isinstance(value, int):
        return str(value)
    # Rounded half up like the template's floatformat (number_format only truncates).
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return formats.number_format(exact, decimals, use_l10n=True)


def month_title(report: Report) -> str:
    return formats.date_format(report.period.first, "YEAR_MONTH_FORMAT")


def _status(ok: bool | None) -> str:
    if ok is None:
        return DASH
    return gettext("on target") if ok else gettext("misses the target")


def kpis(report: Report) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, status) rows shared by the PDF and the CSV."""
    net, sup, lim = report.network, report.support, report.limits
    return [
        (
            gettext("Stability (subscriber-days without drops), %"),
            number(net.stability, 2),
            f"≥ {number(float(lim.stability_target_percent), 2)}",
            _status(report.stability_ok),
        ),
        (gettext("Drops"), number(net.drops), "", ""),
        (gettext("Subscribers with drops"), number(net.subscribers_with_drops), "", ""),
        (gettext("Reconnects"), number(net.reconnects), "", ""),
        (gettext("Subscriber-days online"), number(net.online_days), "", ""),
        (gettext("Subscriber-days with drops"), number(net.drop_days), "", ""),
        (
            gettext("Line-days over the drop threshold"),
            number(net.lines_over_threshold),
            gettext("> %(n)s drops a day") % {"n": lim.line_drops_per_day},
            _status(report.lines_ok),
        ),
        (gettext("Houses with drops"), number(net.buildings_with_drops), "", ""),
        (gettext("Tickets opened"), number(sup.opened), "", ""),
        (
            gettext("Proactive tickets: lines / houses"),
            f"{sup.proactive_line} / {sup.proactive_building}",
            "",
            "",
        ),
        (gettext("First response, median, min"), number(sup.first_response_median), "", ""),
        (gettext("First response, average, min"), number(sup.first_response_avg), "", ""),
        (gettext("Resolution, median, min"), number(sup.resolution_median), "", ""),
        (gettext("Resolution, average, min"), number(sup.resolution_avg), "", ""),
        (
            gettext("First response breaches, %"),
            number(sup.first_response_breach_pct),
            f"≤ {lim.first_response_breach_max_percent}",
            _status(report.first_response_ok),
        ),
        (gettext("Resolution breaches, %"), number(sup.resolution_breach_pct), "", ""),
        (
            gettext("CSAT (ratings 4–5), %"),
            number(sup.csat),
            f"≥ {lim.csat_target_percent}",
            _status(report.csat_ok),
        ),
        (gettext("Average rating"), number(sup.rating_avg, 2), "", ""),
        (gettext("Ratings"), number(sup.rated), "", ""),
        (
            gettext("Installation lead time, days"),
            number(report.installation_lead_time),
            "",
            gettext("not measured yet"),
        ),
    ]


def _day_rows(report: Report) -> list[list[str]]:
    return [
        [
            formats.date_format(d.day, "SHORT_DATE_FORMAT"),
            number(d.drops),
            number(d.dropped_subscribers),
            number(d.reconnects),
            number(d.online_subscribers),
            number(d.stability, 2),
        ]
        for d in report.days
    ]


def _day_header() -> list[str]:
    return [
        gettext("Day"),
        gettext("Drops"),
        gettext("Subscribers with drops"),
        gettext("Reconnects"),
        gettext("Subscribers online"),
        gettext("Stability, %"),
    ]


def _address(street: str, house: str, flat: str = "") -> str:
    text = f"{street}, {house}"
    return f"{text}, {flat}" if flat else text


def _line_rows(report: Report) -> list[list[str]]:
    return [
        [
            line.number,
            _address(line.street, line.house, line.flat),
            number(line.drops),
            number(line.drop_days),
            number(line.reconnects),
            formats.date_format(timezone.localtime(line.last_drop_at), "SHORT_DATETIME_FORMAT")
            if line.last_drop_at
            else DASH,
        ]
        for line in report.lines
    ]


def _line_header() -> list[str]:
    return [
        gettext("Contract"),
        gettext("Address"),
        gettext("Drops"),
        gettext("Days with drops"),
        gettext("Reconnects"),
        gettext("Last drop"),
    ]


def _building_rows(report: Report) -> list[list[str]]:
    return [
        [
            _address(b.street, b.house),
            number(b.drops),
            number(b.affected),
            number(b.subscribers),
            number(b.affected_share),
        ]
        for b in report.buildings
    ]


def _building_header() -> list[str]:
    return [
        gettext("House"),
        gettext("Drops"),
        gettext("Subscribers affected"),
        gettext("Subscribers"),
        gettext("Affected, %"),
    ]


def _category_rows(report: Report) -> list[list[str]]:
    return [
        [
            c.label or c.category,
            number(c.opened),
            number(c.first_response_avg),
            number(c.first_response_breach_pct),
            number(c.resolution_avg),
            number(c.csat),
            number(c.rating_avg, 2),
        ]
        for c in report.categories
    ]


def _category_header() -> list[str]:
    return [
        gettext("Category"),
        gettext("Opened"),
        gettext("First response, avg, min"),
        gettext("First response breaches, %"),
        gettext("Resolution, avg, min"),
        gettext("CSAT, %"),
        gettext("Average rating"),
    ]


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def report_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")

    def rows(header: Sequence[str], body: Sequence[Sequence[str]]) -> None:
        writer.writerow([_cell(h) for h in header])
        writer.writerows([_cell(v) for v in row] for row in body)
        writer.writerow([])

    writer.writerow([gettext("Quality report"), month_title(report)])
    writer.writerow(
        [
            gettext("Period"),
            formats.date_format(report.period.first, "SHORT_DATE_FORMAT"),
            formats.date_format(report.period.last, "SHORT_DATE_FORMAT"),
        ]
    )
    writer.writerow([])
    rows([gettext("Figure"), gettext("Value"), gettext("Target"), gettext("Status")], kpis(report))
    writer.writerow([gettext("Drops by day")])
    rows(_day_header(), _day_rows(report))
    writer.writerow([gettext("Lines with the most drops")])
    rows(_line_header(), _line_rows(report))
    writer.writerow([gettext("Houses with drops")])
    rows(_building_header(), _building_rows(report))
    writer.writerow([gettext("Support by category")])
    rows(_category_header(), _category_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- PDF


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut a text to the cell width (fpdf does not clip)."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


def report_pdf(report: Report) -> bytes:
    title = f"{gettext('Quality report')}: {month_title(report)}"
    pdf = new_document(title)

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def table(header: Sequence[str], body: Sequence[Sequence[str]], widths: list[float]) -> None:
        pdf.set_font("DejaVu", "B", 7)
        for text, width in zip(header, widths, strict=True):
            pdf.cell(width, 6, _fit(pdf, text, width), border=1)
        pdf.ln()
        pdf.set_font("DejaVu", size=7)
        if not body:
            pdf.cell(sum(widths), 6, gettext("No data for this month."), border=1)
            pdf.ln()
        for row in body:
            for i, (text, width) in enumerate(zip(row, widths, strict=True)):
                pdf.cell(width, 5, _fit(pdf, text, width), border=1, align="L" if i == 0 else "R")
            pdf.ln()

    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    pdf.cell(
        0,
        6,
        f"{gettext('Period')}: "
        f"{formats.date_format(report.period.first, 'SHORT_DATE_FORMAT')} – "
        f"{formats.date_format(report.period.last, 'SHORT_DATE_FORMAT')}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    heading(gettext("Summary"))
    table(
        [gettext("Figure"), gettext("Value"), gettext("Target"), gettext("Status")],
        kpis(report),
        [80, 25, 30, 55],
    )
    heading(gettext("Drops by day"))
    table(_day_header(), _day_rows(report), [30, 25, 35, 25, 40, 35])
    heading(gettext("Lines with the most drops"))
    table(_line_header(), _line_rows(report), [22, 70, 18, 22, 22, 36])
    heading(gettext("Houses with drops"))
    table(_building_header(), _building_rows(report), [90, 20, 30, 25, 25])
    heading(gettext("Support by category"))
    table(_category_header(), _category_rows(report), [40, 18, 28, 30, 28, 20, 26])
    return bytes(pdf.output())
