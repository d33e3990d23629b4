"""The contract as a printable PDF (fpdf2 with the DejaVu fonts, which cover Cyrillic and
the ₽ sign). The office prints it at signing with the initial password; every later
print — a staff copy, the cabinet and app download — has no password in it, unless an
operator has just issued a temporary one for the copy."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from fpdf import FPDF

from abonent.core import clock, phones
from abonent.core.pdf import new_document
from abonent.network.models import Credential

from .models import Contract, ContractAddOn, Subscriber

LABEL_WIDTH = 58  # mm; the value takes the rest of the line
LINE = 6  # mm


def mask_passport(subscriber: Subscriber) -> str:
    """Series and number with everything but the last 4 digits hidden: "** ** **3456".
    Empty when the passport is not on file."""
    text = " ".join(
        p.strip() for p in (subscriber.passport_series, subscriber.passport_number) if p
    )
    if not text:
        return ""
    keep = 4
    shown: list[str] = []
    for char in reversed(text):
        if char.isalnum():
            shown.append(char if keep > 0 else "*")
            keep -= 1
        else:
            shown.append(char)
    return "".join(reversed(shown))


def active_addons(contract: Contract) -> list[ContractAddOn]:
    return list(
        ContractAddOn.objects.filter(contract_id=contract.pk, disconnected_on__isnull=True)
        .select_related("addon")
        .order_by("addon__name")
    )


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() > pdf.h - 40:  # keep a heading with the lines that follow it
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("DejaVu", size=10)
    pdf.cell(LABEL_WIDTH, LINE, f"{label}:")
    pdf.multi_cell(0, LINE, value, new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font("DejaVu", size=size)
    pdf.multi_cell(0, LINE - 1, text, new_x="LMARGIN", new_y="NEXT")


def _date(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def contract_pdf(contract: Contract, *, password: str | None) -> bytes:
    """The contract with its parties, service, prices, logins and terms. `password` is
    the cabinet password to print — only at signing (the initial one) or with a freshly
    issued temporary one; None prints the note on how to get a new one instead."""
    subscriber = contract.subscriber
    tariff = contract.tariff
    addons = active_addons(contract)
    credential = Credential.objects.filter(contract_id=contract.pk).first()
    provider = settings.PROVIDER_NAME
    title = _("Contract for Internet access services No. %(number)s") % {"number": contract.number}

    pdf = new_document(title)
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, provider, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.cell(half, LINE, contract.address.city)
    pdf.cell(half, LINE, _date(contract.signed_on), align="R", new_x="LMARGIN", new_y="NEXT")
    if password is None:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(
            0,
            LINE,
            _("Copy. Printed on %(date)s.") % {"date": _date(clock.today())},
            new_x="LMARGIN",
            new_y="NEXT",
        )

    # 1. Parties
    _heading(pdf, _("1. Parties"))
    _paragraph(
        pdf,
        _(
            "%(provider)s (the Provider) and %(subscriber)s (the Subscriber) have concluded "
            "this contract on the terms below."
        )
        % {"provider": provider, "subscriber": subscriber.full_name},
    )
    pdf.ln(1)
    _row(pdf, _("Provider"), provider)
    _row(pdf, _("Subscriber"), subscriber.full_name)
    passport = mask_passport(subscriber)
    if passport:
        _row(pdf, _("Passport"), passport)
    _row(pdf, _("Contact phone"), phones.display(subscriber.phone))
    if subscriber.email:
        _row(pdf, _("E-mail"), subscriber.email)
    _row(pdf, _("Contract number"), contract.number)
    _row(pdf, _("Date of signing"), _date(contract.signed_on))

    # 2. Service
    _heading(pdf, _("2. Service"))
    _row(pdf, _("Service address"), str(contract.address))
    _row(pdf, _("Tariff"), tariff.name)
    _row(pdf, _("Monthly price"), tariff.price.format())
    _row(
        pdf,
        _("Speed"),
        _("up to %(down)s Mbit/s in, up to %(up)s Mbit/s out")
        % {"down": tariff.speed_in_mbps, "up": tariff.speed_out_mbps},
    )
    _row(pdf, _("Charging"), str(tariff.get_charging_mode_display()))

    # 3. Add-on services
    _heading(pdf, _("3. Add-on services"))
    if addons:
        monthly = tariff.price
        for link in addons:
            addon = link.addon
            if addon.billing == addon.Billing.RECURRING:
                price = _("%(price)s per month") % {"price": addon.money.format()}
                monthly = monthly + addon.money
            else:
                price = _("%(price)s once") % {"price": addon.money.format()}
            _row(pdf, addon.name, price)
        _row(pdf, _("Total per month"), monthly.format())
    else:
        _paragraph(pdf, _("None connected."))
        _row(pdf, _("Total per month"), tariff.price.format())

    # 4. Personal cabinet
    _heading(pdf, _("4. Personal cabinet (website and mobile app)"))
    _row(pdf, _("Login"), contract.number)
    if password is not None:
        _row(pdf, _("Password"), password)
        _paragraph(
            pdf,
            _(
                "The password is printed once and is not stored in readable form. "
                "You will be asked to set your own password at the first login."
            ),
            size=9,
        )
    else:
        _row(pdf, _("Password"), "—")
        _paragraph(
            pdf,
            _(
                "The password was given at signing; if lost, use “Forgot password?” "
                "or ask the hotline"
            )
            + f" ({settings.PROVIDER_HOTLINE}).",
            size=9,
        )

    # 5. Router settings
    _heading(pdf, _("5. Internet connection settings for the router (PPPoE)"))
    if credential is not None:
        _row(pdf, _("PPPoE login"), credential.login)
        _row(pdf, _("PPPoE password"), credential.password)
        _paragraph(pdf, _("These are for the router, not for the personal cabinet."), size=9)
    else:
        _paragraph(pdf, _("The settings are given by the installer at the connection."))

    # 6. Terms
    _heading(pdf, _("6. Main terms"))
    terms = [
        _(
            "Payment in advance. The monthly price of the tariff and of the add-on services "
            "is charged from the Subscriber's personal account in advance, as the tariff "
            "says (daily or at the start of the month)."
        ),
        _(
            "Balance. The balance of the personal account is the sum of payments less the "
            "charges; it is shown in the personal cabinet and the app. The account is topped "
            "up there or at the office, without commission."
        ),
        _(
            "Suspension. When the balance does not cover the charges, access to the "
            "Internet is suspended until the account is topped up. The Subscriber may also "
            "suspend the service voluntarily, within the limits published by the Provider."
        ),
        _(
            "Termination. The Subscriber may terminate the contract at the Provider's "
            "office; it is terminated only when the debt on the personal account, if any, "
            "is paid in full. A positive balance is refunded."
        ),
        _("Tariff and add-ons are changed in the personal cabinet, in the app or at the office."),
        _("Hotline: %(hotline)s.") % {"hotline": settings.PROVIDER_HOTLINE},
    ]
    for number, text in enumerate(terms, start=1):
        _paragraph(pdf, f"6.{number}. {text}")
        pdf.ln(1)

    # 7. Signatures
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    _heading(pdf, _("7. Signatures of the parties"))
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(half, LINE, _("Provider"))
    pdf.cell(half, LINE, _("Subscriber"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.cell(half, LINE, provider)
    pdf.cell(half, LINE, subscriber.full_name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    line = "____________________ / ____________________"
    pdf.cell(half, LINE, line)
    pdf.cell(half, LINE, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    pdf.cell(half, 4, _("signature / name"))
    pdf.cell(half, 4, _("signature / name"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.ln(4)
    date_line = _("Date") + ": «____» ______________ 20____"
    pdf.cell(half, LINE, date_line)
    pdf.cell(half, LINE, date_line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
