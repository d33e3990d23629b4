"""Mass operations for managers: a tariff's price change with the subscribers' notices,
and a message to a segment. Each is previewed first, then confirmed with a one-time key
(a double submit starts one operation); the operation's page follows the job's progress
through an htmx-polled fragment. The services check the role again."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from abonent.cabinet.views.util import apply_domain_error
from abonent.catalog import services as catalog
from abonent.catalog.models import Tariff
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.core.money import Money, MoneyParseError
from abonent.notifications import mass
from abonent.notifications.models import MassOperation
from abonent.subscribers.models import Contract

from ..access import staff_required

ROLES = mass.ROLES
SECTION = "mass"


def _money(value: str, *, required: bool) -> int | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise forms.ValidationError(_("This field is required."))
        return None
    try:
        return Money.parse(value).kopecks
    except MoneyParseError:
        raise forms.ValidationError(_("Enter an amount in roubles, e.g. 650 or 650.50.")) from None


class PriceForm(forms.Form):
    tariff = forms.ModelChoiceField(label=_("Tariff"), queryset=Tariff.objects.all())
    monthly_price = forms.CharField(
        label=_("New monthly price, ₽"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_monthly_price(self) -> int | None:
        return _money(self.cleaned_data["monthly_price"], required=True)


class MessageForm(forms.Form):
    tariff = forms.ModelChoiceField(
        label=_("Tariff"), queryset=Tariff.objects.all(), required=False, empty_label=_("Any")
    )
    statuses = forms.MultipleChoiceField(
        label=_("Contract status"),
        choices=Contract.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every status but terminated."),
    )
    street = forms.CharField(
        label=_("Street"),
        max_length=200,
        required=False,
        help_text=_("Part of the street's name as written in the contract."),
    )
    house = forms.CharField(label=_("House"), max_length=20, required=False)
    balance_below = forms.CharField(
        label=_("Balance below, ₽"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    channels = forms.MultipleChoiceField(
        label=_("Send by"),
        choices=[("sms", _("SMS")), ("email", _("E-mail"))],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=["sms"],
    )
    subject = forms.CharField(label=_("E-mail subject"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Text"),
        max_length=10_000,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("{number} becomes the contract number, {balance} its balance."),
    )

    def clean_balance_below(self) -> int | None:
        return _money(self.cleaned_data["balance_below"], required=False)

    def segment(self) -> mass.Segment:
        data = self.cleaned_data
        tariff = data["tariff"]
        return mass.Segment(
            tariff_id=tariff.pk if tariff else None,
            statuses=tuple(data["statuses"]),
            street=data["street"].strip(),
            house=data["house"].strip(),
            balance_below=data["balance_below"],
        )


def _by_status(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [
        (str(label), counts[value]) for value, label in Contract.Status.choices if value in counts
    ]


def _key(request: HttpRequest) -> str | None:
    """The one-time key of the confirm form, scoped to the person submitting it."""
    key = request.POST.get("key", "")[:64]
    return f"staff:{request.user.pk}:{key}" if key else None


@staff_required(*ROLES)
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    operations = MassOperation.objects.select_related("created_by")[:100]
    return render(request, "staff/mass.html", {"operations": operations, "section": SECTION})


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def price_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"section": SECTION, "notice_days": settings.PRICE_NOTICE_DAYS}
    if request.method == "GET":
        notice = dt.timedelta(days=settings.PRICE_NOTICE_DAYS)
        form = PriceForm(initial={"valid_from": clock.today() + notice})
    else:
        form = PriceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            actor = Actor.from_request(request, "admin")
            try:
                if request.POST.get("action") == "confirm":
                    op = mass.start_price_change(
                        data["tariff"].pk,
                        data["monthly_price"],
                        data["valid_from"],
                        actor,
                        key=_key(request),
                    )
                    messages.success(
                        request, gettext("The price is set; the subscribers are being told.")
                    )
                    return redirect("staff:mass_operation", operation_id=op.pk)
                plan = catalog.plan_price_change(
                    data["tariff"], data["monthly_price"], data["valid_from"]
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                context.update(plan=plan, by_status=_by_status(plan.by_status))
                context["key"] = uuid.uuid4().hex
    context["form"] = form
    return render(request, "staff/mass_price.html", context)


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def message_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"section": SECTION, "placeholders": mass.PLACEHOLDERS}
    if request.method == "GET":
        form = MessageForm()
    else:
        form = MessageForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            segment = form.segment()
            try:
                if request.POST.get("action") == "confirm":
                    op = mass.start_message(
                        segment,
                        data["text"],
                        data["channels"],
                        Actor.from_request(request, "admin"),
                        subject=data["subject"],
                        key=_key(request),
                    )
                    messages.success(request, gettext("The message is being sent."))
                    return redirect("staff:mass_operation", operation_id=op.pk)
                plan = mass.plan_message(segment, data["text"], data["channels"], data["subject"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                context.update(plan=plan, by_status=_by_status(plan.by_status))
                context["key"] = uuid.uuid4().hex
    context["form"] = form
    return render(request, "staff/mass_message.html", context)


def _facts(op: MassOperation) -> list[tuple[str, str]]:
    """What the operation does, for people."""
    params = op.params
    facts: list[tuple[str, str]] = []
    if op.kind == MassOperation.Kind.PRICE_CHANGE:
        facts += [
            (gettext("Tariff"), params.get("tariff", "")),
            (gettext("Price now"), Money(params.get("old_price", 0)).format()),
            (gettext("New price"), Money(params.get("new_price", 0)).format()),
            (gettext("Valid from"), _date(params.get("valid_from", ""))),
        ]
    else:
        segment = mass.Segment.from_params(params.get("segment", {}))
        tariff = Tariff.objects.filter(pk=segment.tariff_id).first() if segment.tariff_id else None
        statuses = dict(Contract.Status.choices)
        facts += [
            (gettext("Tariff"), tariff.name if tariff else gettext("Any")),
            (
                gettext("Contract status"),
                ", ".join(str(statuses.get(s, s)) for s in segment.statuses)
                or gettext("Every status but terminated"),
            ),
        ]
        if segment.street:
            address = segment.street + (f", {segment.house}" if segment.house else "")
            facts.append((gettext("Address"), address))
        if segment.balance_below is not None:
            facts.append((gettext("Balance below"), Money(segment.balance_below).format()))
    channels = {"sms": gettext("SMS"), "email": gettext("E-mail")}
    facts.append(
        (gettext("Send by"), ", ".join(channels.get(c, c) for c in params.get("channels", [])))
    )
    return facts


def _date(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return iso


def _operation(operation_id: int) -> MassOperation:
    return get_object_or_404(MassOperation.objects.select_related("created_by"), pk=operation_id)


@staff_required(*ROLES)
@require_GET
def operation_view(request: HttpRequest, operation_id: int) -> HttpResponse:
    op = _operation(operation_id)
    return render(
        request,
        "staff/mass_operation.html",
        {"op": op, "facts": _facts(op), "section": SECTION},
    )


@staff_required(*ROLES)
@require_GET
def progress_view(request: HttpRequest, operation_id: int) -> HttpResponse:
    """The fragment htmx polls every two seconds while the job runs."""
    return render(request, "staff/mass_progress.html", {"op": _operation(operation_id)})
