"""The statement as CSV and PDF: the same lines the cabinet shows."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from abonent.core.money import Money
from abonent.core.pdf import new_document
from abonent.subscribers.models import Contract

from .selectors import Statement


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def statement_csv(contract: Contract, statement: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Date"), _("Operation"), _("Description"), _("Amount"), _("Balance after")])
    writer.writerow(
        [
            statement.date_from.isoformat(),
            _("Opening balance"),
            "",
            "",
            f"{statement.opening / 100:.2f}",
        ]
    )
    for line in statement.lines:
        e = line.entry
        writer.writerow(
            [
                e.effective_date.isoformat(),
                e.get_kind_display(),
                e.description,
                f"{e.amount / 100:.2f}",
                f"{line.balance_after / 100:.2f}",
            ]
        )
    writer.writerow(
        [
            statement.date_to.isoformat(),
            _("Closing balance"),
            "",
            "",
            f"{statement.closing / 100:.2f}",
        ]
    )
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 CSV correctly


def statement_pdf(contract: Contract, statement: Statement) -> bytes:
    title = _("Statement of account")
    pdf = new_document(title)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, f"{settings.PROVIDER_NAME}: {title}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    period = (
        f"{formats.date_format(statement.date_from)} — {formats.date_format(statement.date_to)}"
    )
    for label, value in (
        (_("Contract"), contract.number),
        (_("Subscriber"), contract.subscriber.full_name),
        (_("Period"), period),
        (_("Opening balance"), _money(statement.opening, statement.currency)),
        (_("Closing balance"), _money(statement.closing, statement.currency)),
    ):
        pdf.cell(45, 6, f"{label}:")
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (24, 34, 64, 34, 34)
    pdf.set_font("DejaVu", "B", 9)
    for width, head in zip(
        widths,
        (_("Date"), _("Operation"), _("Description"), _("Amount"), _("Balance after")),
        strict=True,
    ):
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("DejaVu", size=9)
    for line in statement.lines:
        e = line.entry
        cells = (
            formats.date_format(e.effective_date, "SHORT_DATE_FORMAT"),
            str(e.get_kind_display()),
            e.description[:40],
            _money(e.amount, e.currency),
            _money(line.balance_after, e.currency),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 6, text, border=1)
        pdf.ln()
    return bytes(pdf.output())
