"""The subscriber card: everything the hotline, office and managers need about one
contract on one screen, and the actions each role may take (STAFF_ACTIONS). Every
action calls the same service the cabinet or the office uses; the services check the
role again."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from abonent.accounts import services as accounts
from abonent.accounts.permissions import STAFF_ACTIONS, allowed
from abonent.applications.models import Application
from abonent.billing import lifecycle
from abonent.billing.selectors import statement
from abonent.billing.services import post_correction
from abonent.catalog.models import Tariff
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.core.models import AuditLog
from abonent.core.money import Money, MoneyParseError
from abonent.network import selectors as network
from abonent.notifications.models import Message
from abonent.payments import office
from abonent.subscribers.models import Contract
from abonent.support.models import Ticket

from ..access import staff_required

ROWS = 15


class CashForm(forms.Form):
    amount = forms.CharField(label=_("Amount, ₽"), max_length=20)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class CorrectionForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount, ₽ (minus to charge)"),
        max_length=20,
        help_text=_("For example 150 or -150"),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class TariffForm(forms.Form):
    tariff_id = forms.TypedChoiceField(label=_("New tariff"), coerce=int)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tariff_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            (t.pk, f"{t.name} · {t.price}") for t in Tariff.objects.filter(is_archived=False)
        ]


class SuspendForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))


def card_context(contract: Contract, user: Any) -> dict[str, Any]:
    """The sections of the card; each is a bounded query whatever the history's size."""
    today = clock.today()
    lines = statement(contract, today - dt.timedelta(days=90), today).lines[-ROWS:]
    key = uuid.uuid4().hex
    return {
        "statement": list(reversed(lines)),
        "online": network.online(contract),
        "sessions": network.sessions(contract, today - dt.timedelta(days=30), today, limit=10),
        "traffic": network.traffic(contract, today - dt.timedelta(days=6), today),
        "tickets": Ticket.objects.filter(contract=contract).order_by("-created_at")[:ROWS],
        "application": Application.objects.filter(contract=contract).first(),
        "messages_sent": Message.objects.filter(contract_id=contract.pk).order_by("-created_at")[
            :ROWS
        ],
        "audit_trail": AuditLog.objects.filter(contract_id=contract.pk)
        .select_related("actor")
        .order_by("-created_at")[:ROWS],
        "suspension": contract.suspensions.filter(status="active").first(),
        "may": {action: allowed(user, action) for action in STAFF_ACTIONS},
        "cash_form": CashForm(initial={"key": key}),
        "correction_form": CorrectionForm(initial={"key": key}),
        "tariff_form": TariffForm(initial={"key": key, "tariff_id": contract.tariff_id}),
        "suspend_form": SuspendForm(initial={"start": today, "end": today + dt.timedelta(days=14)}),
    }


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, "admin")


@staff_required(*STAFF_ACTIONS["view_subscriber"])
@require_POST
def action_view(request: HttpRequest, contract_id: int, action: str) -> HttpResponse:
    """One endpoint per card action; the service decides, the card shows the outcome."""
    contract = get_object_or_404(Contract.objects.select_related("user"), pk=contract_id)
    actor = _actor(request)
    try:
        done = _run(action, contract, request, actor)
    except DomainError as exc:
        text = str(exc.message)
        if exc.fields:
            text = " ".join(str(e) for errors in exc.fields.values() for e in errors)
        messages.error(request, text)
    else:
        if done:
            messages.success(request, done)
    return redirect("staff:contract", contract_id=contract.pk)


def _invalid(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _run(action: str, contract: Contract, request: HttpRequest, actor: Actor) -> str:
    form: forms.Form
    if action == "cash":
        form = CashForm(request.POST)
        if not form.is_valid():
            return _invalid(form)
        cash = office.record_cash_payment(
            contract.pk, form.cleaned_data["amount"], actor, key=form.cleaned_data["key"]
        )
        return gettext("Cash payment %(amount)s recorded (receipt № %(id)s).") % {
            "amount": cash.money.format(),
            "id": cash.pk,
        }
    if action == "correction":
        form = CorrectionForm(request.POST)
        if not form.is_valid():
            return _invalid(form)
        raw = form.cleaned_data["amount"].strip()
        try:
            kopecks = Money.parse(raw.lstrip("-+")).kopecks * (-1 if raw.startswith("-") else 1)
        except MoneyParseError:
            raise DomainError(gettext("Enter the amount in rubles, e.g. 150 or -150.")) from None
        post_correction(
            contract.pk,
            kopecks,
            form.cleaned_data["reason"],
            actor,
            key=f"correction:{form.cleaned_data['key']}",
        )
        return gettext("The correction is posted as a new entry.")
    if action == "tariff":
        form = TariffForm(request.POST)
        if not form.is_valid():
            return _invalid(form)
        change = lifecycle.change_tariff(
            contract.pk,
            form.cleaned_data["tariff_id"],
            actor,
            f"staff:{form.cleaned_data['key']}",
        )
        return gettext("Tariff change: %(status)s from %(date)s.") % {
            "status": change.get_status_display(),
            "date": change.effective_date.strftime("%d.%m.%Y"),
        }
    if action == "suspend":
        form = SuspendForm(request.POST)
        if not form.is_valid():
            return _invalid(form)
        lifecycle.suspend(contract.pk, form.cleaned_data["start"], form.cleaned_data["end"], actor)
        return gettext("The suspension is booked.")
    if action == "resume":
        suspension = contract.suspensions.filter(status="active").first()
        if suspension is None:
            return gettext("There is no active suspension.")
        lifecycle.resume(contract.pk, suspension.pk, actor)
        return gettext("The service is on again.")
    if action == "promise":
        promise = lifecycle.take_promise(contract.pk, None, actor)
        return gettext("Promised payment %(amount)s until %(date)s.") % {
            "amount": Money(promise.amount).format(),
            "date": promise.expires_on.strftime("%d.%m.%Y"),
        }
    if action == "restore_cabinet":
        accounts.restore_cabinet(contract.user, actor)
        return gettext("Cabinet access is switched back on.")
    return gettext("Unknown action.")
