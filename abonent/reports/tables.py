"""The report sections as tables: one definition feeds the staff page, the CSV for a
Russian Excel (UTF-8 with a BOM, semicolons, decimal commas in the Russian locale) and
the XLSX (numbers as numbers, money in rubles with two decimals). Cells hold raw values
(kopecks, counts, dates); each column's kind says how to show them."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from abonent.core import replica
from abonent.core.money import Money
from abonent.subscribers.models import Contract

from . import flows, selectors
from .periods import DAY, ReportPeriod

TEXT, DAY_KIND, MONTH_KIND, COUNT, MONEY, PERCENT, NUMBER = (
    "text",
    "day",
    "month",
    "count",
    "money",
    "percent",
    "number",
)
NUMERIC = {COUNT, MONEY, PERCENT, NUMBER}
DASH = "—"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    chart: int | None = None  # the column the chart shows, one bar per row
    chart_labels: tuple[int, ...] = (0,)  # the columns a bar's label is made of


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    note: str
    tables: list[Table] = field(default_factory=list)
    as_of: dt.date | None = None  # a snapshot of today rather than of the period


# --------------------------------------------------------------------------- formatting


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def display(value: Any, kind: str) -> str:
    """A cell as the page shows it (locale-aware, money with the currency sign)."""
    if value is None or value == "":
        return DASH if kind in NUMERIC or kind in (DAY_KIND, MONTH_KIND) else ""
    if kind == MONEY:
        return Money(value).format()
    if kind == DAY_KIND:
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if kind == MONTH_KIND:
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    if kind in (COUNT, NUMBER) and isinstance(value, int):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if kind == PERCENT:
        return f"{formats.number_format(_decimal(value, 1), 1, use_l10n=True)}\u00a0%"
    if kind == NUMBER:
        return formats.number_format(_decimal(value, 1), 1, use_l10n=True)
    return str(value)


def plain(value: Any, kind: str) -> str:
    """A cell for the CSV: no grouping, no currency sign, decimal comma in Russian."""
    if value is None or value == "":
        return DASH if kind in NUMERIC else ""
    if kind == MONEY:
        return formats.number_format(Money(value).decimal, 2, use_l10n=True)
    if kind == DAY_KIND:
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if kind == MONTH_KIND:
        return formats.date_format(value, "m.Y")
    if kind in (COUNT, NUMBER) and isinstance(value, int):
        return str(value)
    if kind in (PERCENT, NUMBER):
        return formats.number_format(_decimal(value, 1), 1, use_l10n=True)
    return str(value)


# --------------------------------------------------------------------------- sections


def _step(period: ReportPeriod) -> Column:
    return Column(gettext("Day") if period.granularity == DAY else gettext("Month"), _kind(period))


def _kind(period: ReportPeriod) -> str:
    return DAY_KIND if period.granularity == DAY else MONTH_KIND


def _total_label() -> str:
    return gettext("Total")


def revenue(period: ReportPeriod, today: dt.date) -> Section:
    rows = selectors.revenue(period)
    total = selectors.revenue_total(rows, period)

    def cells(r: selectors.RevenueRow) -> list[Any]:
        return [r.tariff, r.addons, r.fees, r.other, r.charged, r.refunds, r.reversals, r.net]

    return Section(
        "revenue",
        gettext("Revenue"),
        gettext(
            "Charges by their date, split by what they are for (tariffs, add-on services, "
            "fees for tariff changes, suspensions and promised payments, other), minus the "
            "refunds returned to the balance and the staff corrections that reverse a "
            "charge. Payments, pay-outs and other corrections are not revenue."
        ),
        [
            Table(
                "revenue",
                gettext("Revenue"),
                [
                    _step(period),
                    Column(gettext("Tariffs"), MONEY),
                    Column(gettext("Add-on services"), MONEY),
                    Column(gettext("Fees"), MONEY),
                    Column(gettext("Other charges"), MONEY),
                    Column(gettext("Charged"), MONEY),
                    Column(gettext("Refunded"), MONEY),
                    Column(gettext("Charges reversed"), MONEY),
                    Column(gettext("Net revenue"), MONEY),
                ],
                [[r.period, *cells(r)] for r in rows],
                [_total_label(), *cells(total)],
                chart=8,
            )
        ],
    )


def payments(period: ReportPeriod, today: dt.date) -> Section:
    rows = selectors.payments(period)
    channels = selectors.payments_by_channel(rows)
    steps = selectors.payments_by_step(rows, period)
    count, amount = sum(r.count for r in channels), sum(r.amount for r in channels)
    money_columns = [Column(gettext("Payments"), COUNT), Column(gettext("Amount"), MONEY)]
    return Section(
        "payments",
        gettext("Payments"),
        gettext(
            "Money that reached the balances, by the day it arrived: by card through each "
            "provider, by autopay, in cash at the office, and other (imports). Corrections "
            "and promised payments are not payments."
        ),
        [
            Table(
                "payments-by-channel",
                gettext("Payments by channel and provider"),
                [
                    Column(gettext("Channel")),
                    Column(gettext("Payment provider")),
                    *money_columns,
                    Column(gettext("Share of the amount"), PERCENT),
                ],
                [
                    [
                        r.channel_label,
                        r.provider,
                        r.count,
                        r.amount,
                        selectors.percent(r.amount, amount),
                    ]
                    for r in channels
                ],
                [_total_label(), "", count, amount, 100.0 if amount else None],
                chart=3,
                chart_labels=(0, 1),
            ),
            Table(
                "payments-by-period",
                gettext("Payments by period"),
                [_step(period), *money_columns],
                [[step, n, s] for step, n, s in steps],
                [_total_label(), count, amount],
                chart=2,
            ),
            Table(
                "payments-detail",
                gettext("Payments by period, channel and provider"),
                [
                    _step(period),
                    Column(gettext("Channel")),
                    Column(gettext("Payment provider")),
                    *money_columns,
                ],
                [[r.period, r.channel_label, r.provider, r.count, r.amount] for r in rows],
            ),
        ],
    )


def debtors(period: ReportPeriod, today: dt.date) -> Section:
    aging = selectors.debt_aging(today)
    top = selectors.top_debtors(today)
    return Section(
        "debtors",
        gettext("Debtors"),
        gettext(
            "Accounts with a negative balance today, by the days since the debt began "
            "(the day the billing run first saw it), and the 50 largest debts. The period "
            "does not change this snapshot."
        ),
        [
            Table(
                "aging",
                gettext("Debt by age"),
                [
                    Column(gettext("In debt for")),
                    Column(gettext("Accounts"), COUNT),
                    Column(gettext("Debt"), MONEY),
                ],
                [[r.label, r.accounts, r.debt] for r in aging],
                [_total_label(), sum(r.accounts for r in aging), sum(r.debt for r in aging)],
                chart=2,
            ),
            Table(
                "top-debtors",
                gettext("The largest debts"),
                [
                    Column(gettext("Contract")),
                    Column(gettext("Subscriber")),
                    Column(gettext("Tariff")),
                    Column(gettext("Status")),
                    Column(gettext("Debt"), MONEY),
                    Column(gettext("In debt since"), DAY_KIND),
                    Column(gettext("Days in debt"), COUNT),
                ],
                [
                    [d.number, d.name, d.tariff, d.status_label, d.debt, d.since, d.days]
                    for d in top
                ],
            ),
        ],
        as_of=today,
    )


def arpu(period: ReportPeriod, today: dt.date) -> Section:
    rows = selectors.arpu(period)
    return Section(
        "arpu",
        gettext("ARPU"),
        gettext(
            "Average revenue per user for each whole calendar month the period touches: "
            "the month's net revenue divided by the subscribers in service in the month. "
            "Status history is not kept, so a subscriber counts as in service in a month "
            "when the contract was signed by its last day, not terminated before its first "
            "day and is not still connecting."
        ),
        [
            Table(
                "arpu",
                gettext("ARPU by month"),
                [
                    Column(gettext("Month"), MONTH_KIND),
                    Column(gettext("Net revenue"), MONEY),
                    Column(gettext("Subscribers in service"), COUNT),
                    Column(gettext("ARPU"), MONEY),
                ],
                [[r.month, r.revenue, r.subscribers, r.arpu] for r in rows],
                chart=3,
            )
        ],
    )


def churn(period: ReportPeriod, today: dt.date) -> Section:
    rows = flows.churn(period)
    total = flows.churn_total(rows)

    def cells(r: flows.TariffFigures) -> list[Any]:
        return [
            *(r.by_status[s.value] for s in flows.STATUSES),
            r.total,
            r.at_start,
            r.new,
            r.terminated,
            r.churn,
        ]

    return Section(
        "churn",
        gettext("Subscribers and churn by tariff"),
        gettext(
            "Contracts by their tariff and status today; in service at the start of the "
            "period; signed and terminated in the period. Churn is the terminated divided "
            "by those in service at the start. A contract counts under its present tariff."
        ),
        [
            Table(
                "churn",
                gettext("Subscribers and churn by tariff"),
                [
                    Column(gettext("Tariff")),
                    *(Column(str(Contract.Status(s).label), COUNT) for s in flows.STATUSES),
                    Column(gettext("All"), COUNT),
                    Column(gettext("At the start of the period"), COUNT),
                    Column(gettext("Signed in the period"), COUNT),
                    Column(gettext("Terminated in the period"), COUNT),
                    Column(gettext("Churn"), PERCENT),
                ],
                [[r.tariff, *cells(r)] for r in rows],
                [_total_label(), *cells(total)],
                chart=10,
            )
        ],
    )


def tariff_changes(period: ReportPeriod, today: dt.date) -> Section:
    rows = flows.tariff_flows(period)
    return Section(
        "tariff-changes",
        gettext("Tariff changes"),
        gettext("Tariff changes that took effect in the period, from which tariff to which."),
        [
            Table(
                "tariff-changes",
                gettext("Tariff changes"),
                [
                    Column(gettext("From")),
                    Column(gettext("To")),
                    Column(gettext("Changes"), COUNT),
                    Column(gettext("Change fees"), MONEY),
                ],
                [[f.from_tariff, f.to_tariff, f.count, f.fees] for f in rows],
                [_total_label(), "", sum(f.count for f in rows), sum(f.fees for f in rows)],
                chart=2,
                chart_labels=(0, 1),
            )
        ],
    )


def suspensions(period: ReportPeriod, today: dt.date) -> Section:
    figures = flows.suspensions(period, today)
    return Section(
        "suspensions",
        gettext("Suspensions"),
        gettext(
            "Voluntary suspensions that started (went into effect) and ended in the period, "
            "and the days of the period spent suspended (an active suspension up to today)."
        ),
        [
            Table(
                "suspensions",
                gettext("Suspensions by period"),
                [
                    _step(period),
                    Column(gettext("Started in the period"), COUNT),
                    Column(gettext("Ended in the period"), COUNT),
                ],
                [list(step) for step in figures.steps],
                [_total_label(), figures.started, figures.ended],
                chart=1,
            ),
            Table(
                "suspensions-summary",
                gettext("Suspensions in the period"),
                [Column(gettext("Figure")), Column(gettext("Value"), NUMBER)],
                [
                    [gettext("Started in the period"), figures.started],
                    [gettext("Ended in the period"), figures.ended],
                    [gettext("Days suspended in the period"), figures.days],
                    [gettext("Active now"), figures.active_now],
                ],
            ),
        ],
    )


def promised(period: ReportPeriod, today: dt.date) -> Section:
    rows = flows.promised(period)
    total = flows.promised_total(rows, period)

    def cells(r: flows.PromiseRow) -> list[Any]:
        return [r.taken, r.amount, r.fees, r.repaid, r.expired_unpaid, r.active]

    return Section(
        "promised",
        gettext("Promised payments"),
        gettext(
            "Promised payments by the day taken: repaid when a payment reached the account "
            "from that day through the day the promise ended; expired unpaid when it ended "
            "without one; active when it has not ended yet."
        ),
        [
            Table(
                "promised",
                gettext("Promised payments"),
                [
                    _step(period),
                    Column(gettext("Taken"), COUNT),
                    Column(gettext("Credit"), MONEY),
                    Column(gettext("Fees"), MONEY),
                    Column(gettext("Repaid"), COUNT),
                    Column(gettext("Expired unpaid"), COUNT),
                    Column(gettext("Not ended yet"), COUNT),
                ],
                [[r.period, *cells(r)] for r in rows],
                [_total_label(), *cells(total)],
                chart=1,
            )
        ],
    )


def support(period: ReportPeriod, today: dt.date) -> Section:
    s = flows.support(period)
    return Section(
        "support",
        gettext("Support"),
        gettext(
            "Tickets opened in the period, from quality control (times in minutes). The "
            "quality dashboard has the details."
        ),
        [
            Table(
                "support",
                gettext("Support"),
                [Column(gettext("Figure")), Column(gettext("Value"), NUMBER)],
                [
                    [gettext("Tickets opened"), s.opened],
                    [gettext("Answered"), s.answered],
                    [gettext("First response, median, min"), s.first_response_median],
                    [gettext("First response, average, min"), s.first_response_avg],
                    [gettext("First response breaches, %"), s.first_response_breach_pct],
                    [gettext("Resolved"), s.resolved],
                    [gettext("Resolution, median, min"), s.resolution_median],
                    [gettext("Resolution, average, min"), s.resolution_avg],
                    [gettext("Resolution breaches, %"), s.resolution_breach_pct],
                    [gettext("CSAT (ratings 4–5), %"), s.csat],
                    [gettext("Average rating"), s.rating_avg],
                    [gettext("Ratings"), s.rated],
                    [
                        gettext("Proactive tickets: lines / houses"),
                        f"{s.proactive_line} / {s.proactive_building}",
                    ],
                ],
            )
        ],
    )


Builder = Callable[[ReportPeriod, dt.date], Section]
SECTIONS: dict[str, Builder] = {
    "revenue": revenue,
    "payments": payments,
    "debtors": debtors,
    "arpu": arpu,
    "churn": churn,
    "tariff-changes": tariff_changes,
    "suspensions": suspensions,
    "promised": promised,
    "support": support,
}
TITLES = {  # for the links, without computing a section
    "revenue": _("Revenue"),
    "payments": _("Payments"),
    "debtors": _("Debtors"),
    "arpu": _("ARPU"),
    "churn": _("Subscribers and churn by tariff"),
    "tariff-changes": _("Tariff changes"),
    "suspensions": _("Suspensions"),
    "promised": _("Promised payments"),
    "support": _("Support"),
}


def section(name: str, period: ReportPeriod, today: dt.date) -> Section:
    with replica.reading():  # a report may be a second old; the primary keeps its CPU
        return SECTIONS[name](period, today)


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_row(table: Table, row: list[Any]) -> list[str]:
    return [
        _safe(value) if isinstance(value, str) else plain(value, column.kind)
        for value, column in zip(row, table.columns, strict=True)
    ]


def _period_cells(sec: Section, period: ReportPeriod) -> list[str]:
    if sec.as_of is not None:
        return [gettext("As of"), formats.date_format(sec.as_of, "SHORT_DATE_FORMAT")]
    return [
        gettext("Period"),
        formats.date_format(period.first, "SHORT_DATE_FORMAT"),
        formats.date_format(period.last, "SHORT_DATE_FORMAT"),
    ]


def to_csv(sec: Section, period: ReportPeriod) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_safe(sec.title)])
    writer.writerow(_period_cells(sec, period))
    writer.writerow([])
    for table in sec.tables:
        writer.writerow([_safe(table.title)])
        writer.writerow([_safe(c.label) for c in table.columns])
        writer.writerows(_csv_row(table, row) for row in table.rows)
        if table.total is not None:
            writer.writerow(_csv_row(table, table.total))
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- XLSX

_XLSX_FORMATS = {
    MONEY: "#,##0.00",
    COUNT: "0",
    PERCENT: "0.0",
    NUMBER: "0.0",
    DAY_KIND: "DD.MM.YYYY",
    MONTH_KIND: "MM.YYYY",
}
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == MONEY and isinstance(value, int):
        return Money(value).decimal
    return value


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_NAME.sub(" ", title)[:31].strip() or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def to_xlsx(sec: Section, period: ReportPeriod) -> bytes:
    """One sheet per table: the header in the first row, then the rows and the total.
    openpyxl has no type hints, so it is loaded as an untyped module."""
    openpyxl: Any = importlib.import_module("openpyxl")
    styles: Any = importlib.import_module("openpyxl.styles")
    utils: Any = importlib.import_module("openpyxl.utils")
    bold = styles.Font(bold=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.title = f"{sec.title}: " + " ".join(_period_cells(sec, period)[1:])
    taken: set[str] = set()
    for table in sec.tables:
        sheet = book.create_sheet(_sheet_title(table.title, taken))
        sheet.append([c.label for c in table.columns])
        for cell in sheet[1]:
            cell.font = bold
        body = [*table.rows, *([table.total] if table.total is not None else [])]
        for row in body:
            sheet.append([_xlsx_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
            for cell, value, column in zip(sheet[sheet.max_row], row, table.columns, strict=True):
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                elif column.kind in _XLSX_FORMATS and value is not None:
                    cell.number_format = _XLSX_FORMATS[column.kind]
        if table.total is not None:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        for i, column in enumerate(table.columns):
            letter = utils.get_column_letter(i + 1)
            sheet.column_dimensions[letter].width = max(12, min(40, len(column.label) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
