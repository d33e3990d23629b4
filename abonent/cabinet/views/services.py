"""Services (tariff and add-ons), suspension, and the money pages: each action shows
its preview first and is confirmed with a POST carrying a one-time key, so a double
click or a refresh never changes anything twice."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from abonent.billing import lifecycle
from abonent.billing.models import Suspension, TariffChange
from abonent.catalog.models import AddOn, BillingPolicy
from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.selectors import contract_for_user

from ..access import me, subscriber_required
from .util import apply_domain_error


def _error(request: HttpRequest, exc: DomainError) -> None:
    texts = [str(m) for msgs in exc.fields.values() for m in msgs] or [str(exc.message)]
    for text in texts:
        messages.error(request, text)


@subscriber_required
def services_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    active = {link.addon_id: link for link in contract.addons.all() if link.disconnected_on is None}
    return render(
        request,
        "cabinet/services.html",
        {
            "contract": contract,
            "tariffs": lifecycle.tariffs_open_to(contract),
            "scheduled": TariffChange.objects.filter(contract=contract, status="scheduled")
            .select_related("to_tariff")
            .first(),
            "addons": [
                (a, a.pk in active)
                for a in AddOn.objects.filter(is_archived=False).order_by("name")
            ],
            "suspension": Suspension.objects.filter(
                contract=contract, status__in=["scheduled", "active"]
            ).first(),
            "section": "services",
        },
    )


@subscriber_required
@require_http_methods(["GET", "POST"])
def tariff_change_view(request: HttpRequest, tariff_id: int) -> HttpResponse:
    contract = contract_for_user(me(request))
    if request.method == "POST":
        key = f"web:{me(request).pk}:{request.POST.get('key', '')[:64]}"
        try:
            change = lifecycle.change_tariff(
                contract.pk, tariff_id, Actor.from_request(request), key
            )
        except DomainError as exc:
            _error(request, exc)
            return redirect("cabinet:services")
        if change.status == TariffChange.Status.APPLIED:
            messages.success(request, gettext("The tariff is changed."))
        else:
            messages.success(
                request,
                gettext("The tariff will change on %(date)s.")
                % {"date": change.effective_date.strftime("%d.%m.%Y")},
            )
        return redirect("cabinet:services")
    try:
        plan = lifecycle.plan_tariff_change(contract, tariff_id)
    except DomainError as exc:
        _error(request, exc)
        return redirect("cabinet:services")
    return render(
        request,
        "cabinet/tariff_change.html",
        {"contract": contract, "plan": plan, "key": uuid.uuid4().hex, "section": "services"},
    )


@subscriber_required
@require_POST
def tariff_change_cancel_view(request: HttpRequest, change_id: int) -> HttpResponse:
    contract = contract_for_user(me(request))
    try:
        lifecycle.cancel_tariff_change(contract.pk, change_id, Actor.from_request(request))
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, gettext("The scheduled change is cancelled."))
    return redirect("cabinet:services")


@subscriber_required
@require_http_methods(["GET", "POST"])
def addon_view(request: HttpRequest, addon_id: int, action: str) -> HttpResponse:
    if action not in ("connect", "disconnect"):
        raise Http404
    contract = contract_for_user(me(request))
    connect = action == "connect"
    if request.method == "POST":
        try:
            lifecycle.set_addon(contract.pk, addon_id, connect, Actor.from_request(request))
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, gettext("Connected.") if connect else gettext("Disconnected.")
            )
        return redirect("cabinet:services")
    try:
        plan = lifecycle.plan_addon(contract, addon_id, connect)
    except DomainError as exc:
        _error(request, exc)
        return redirect("cabinet:services")
    return render(
        request, "cabinet/addon.html", {"plan": plan, "action": action, "section": "services"}
    )


class SuspensionForm(forms.Form):
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(
        label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if (
            data.get("start_date")
            and data.get("end_date")
            and data["end_date"] < data["start_date"]
        ):
            self.add_error("end_date", _("The end date is before the start date."))
        return data


@subscriber_required
@require_http_methods(["GET", "POST"])
def suspension_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    form = SuspensionForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        start, end = form.cleaned_data["start_date"], form.cleaned_data["end_date"]
        try:
            if request.POST.get("confirm") == "1":
                lifecycle.suspend(contract.pk, start, end, Actor.from_request(request))
                messages.success(request, gettext("The suspension is arranged."))
                return redirect("cabinet:services")
            plan = lifecycle.plan_suspension(contract, start, end)
        except DomainError as exc:
            apply_domain_error(form, exc)
    current = Suspension.objects.filter(
        contract=contract, status__in=["scheduled", "active"]
    ).first()
    return render(
        request,
        "cabinet/suspension.html",
        {
            "form": form,
            "plan": plan,
            "policy": BillingPolicy.current(),
            "current": current,
            "used": lifecycle.suspension_days_used(contract, clock.today().year),
            "section": "services",
        },
    )


@subscriber_required
@require_POST
def suspension_action_view(request: HttpRequest, suspension_id: int, action: str) -> HttpResponse:
    if action not in ("resume", "cancel"):
        raise Http404
    contract = contract_for_user(me(request))
    actor = Actor.from_request(request)
    try:
        if action == "resume":
            lifecycle.resume(contract.pk, suspension_id, actor)
            messages.success(request, gettext("Welcome back! The service is on again."))
        else:
            lifecycle.cancel_suspension(contract.pk, suspension_id, actor)
            messages.success(request, gettext("The suspension is cancelled."))
    except DomainError as exc:
        _error(request, exc)
    return redirect("cabinet:services")
