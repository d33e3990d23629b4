"""Termination at the subscriber's request: the settlement preview for a date, then a
confirmation with a one-time key, so a double submit terminates once. The service
checks the role again and refuses while anything is owed."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from abonent.billing import lifecycle
from abonent.billing.models import LedgerEntry
from abonent.cabinet.views.util import apply_domain_error
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.models import Contract

from ..access import staff_required

ROLES = ("manager", "admin", "operator")


class DateForm(forms.Form):
    on = forms.DateField(
        label=_("Last day of service"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        if on < clock.today():
            raise forms.ValidationError(_("The termination date cannot be in the past."))
        return on


class ConfirmForm(DateForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. moving house")}),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _contract(contract_id: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related(
            "subscriber", "address", "tariff", "account"
        ).prefetch_related("addons__addon"),
        pk=contract_id,
    )


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def terminate_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _contract(contract_id)
    today = clock.today()
    context: dict[str, Any] = {"contract": contract, "section": "contracts", "today": today}
    if request.method == "GET" and contract.status == Contract.Status.TERMINATED:
        payout = LedgerEntry.objects.filter(
            idempotency_key=f"termination:{contract.pk}:payout"
        ).first()
        context["paid_out"] = -payout.amount if payout else 0
        return render(request, "staff/termination.html", context)
    if request.method == "POST":
        # Always through the service: a second submit finds the contract terminated.
        confirm = ConfirmForm(request.POST)
        dates = DateForm(request.POST)
        if confirm.is_valid():
            try:
                result = lifecycle.terminate(
                    contract.pk,
                    confirm.cleaned_data["on"],
                    Actor.from_request(request, "admin"),
                    f"staff:{request.user.pk}:{confirm.cleaned_data['key']}",
                    reason=confirm.cleaned_data["reason"],
                )
            except DomainError as exc:
                apply_domain_error(confirm, exc)
            else:
                if result.created:
                    messages.success(request, gettext("The contract is terminated."))
                else:
                    messages.info(request, gettext("The contract was already terminated."))
                return redirect("staff:contract_terminate", contract_id=contract.pk)
        if contract.status == Contract.Status.TERMINATED:
            return redirect("staff:contract_terminate", contract_id=contract.pk)
    else:
        dates = DateForm(request.GET or None, initial={"on": today})
        confirm = None
    on = dates.cleaned_data["on"] if dates.is_bound and dates.is_valid() else today
    if confirm is None:
        confirm = ConfirmForm(initial={"on": on, "key": uuid.uuid4().hex})
    context.update(dates=dates, confirm=confirm, on=on)
    try:
        plan = lifecycle.plan_termination(contract, on, today)
    except DomainError as exc:
        apply_domain_error(dates, exc)
    else:
        context["plan"] = plan
        if plan.to_pay:
            context["refusal"] = str(lifecycle.TerminationDebt(plan.to_pay, plan.currency))
    return render(request, "staff/termination.html", context)
