"""The connection pipeline for staff: applications by stage, one application with its
history and the next step's form; the contract PDF with the initial password comes out
of the signing step, once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from abonent.applications import services as applications
from abonent.applications.models import Application, InstallSlot, Stage
from abonent.cabinet.views.apply import ApplyForm
from abonent.cabinet.views.util import apply_domain_error
from abonent.catalog.models import Tariff
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers import documents

from ..access import staff_required

ROLES = ("operator", "technician", "manager", "admin")


@staff_required(*ROLES)
def board_view(request: HttpRequest) -> HttpResponse:
    stage = request.GET.get("stage", "")
    counts = dict(Application.objects.values_list("stage").annotate(n=Count("id")))
    rows = Application.objects.select_related("building__street", "tariff", "contract")
    if stage in Stage.values:
        rows = rows.filter(stage=stage)
    else:
        rows = rows.exclude(stage__in=Application.CLOSED)
    stages = [(s.value, s.label, counts.get(s.value, 0)) for s in Stage]
    return render(
        request,
        "staff/applications.html",
        {
            "rows": rows.order_by("created_at")[:300],
            "stages": stages,
            "stage": stage,
            "section": "applications",
        },
    )


class StepForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    tariff_id = forms.TypedChoiceField(
        label=_("Tariff"), required=False, coerce=int, empty_value=None
    )
    slot_id = forms.TypedChoiceField(
        label=_("Installation time"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tariff = self.fields["tariff_id"]
        assert isinstance(tariff, forms.TypedChoiceField)
        tariff.choices = [
            (t.pk, f"{t.name} · {t.price}") for t in Tariff.objects.filter(is_archived=False)
        ]
        slot = self.fields["slot_id"]
        assert isinstance(slot, forms.TypedChoiceField)
        free = InstallSlot.objects.filter(starts_at__gt=clock.now()).filter(
            application__isnull=True
        ) | InstallSlot.objects.filter(application=application)
        slot.choices = [
            (
                s.pk,
                f"{clock_local(s.starts_at)} · {s.technician.full_name or s.technician.username}",
            )
            for s in free.select_related("technician").order_by("starts_at")[:50]
        ]


def clock_local(value: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%d.%m %H:%M")


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def application_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("building__street", "tariff", "contract"),
        pk=application_id,
    )
    form = StepForm(
        request.POST or None,
        application=application,
        initial={"tariff_id": application.tariff_id},
    )
    actor = Actor.from_request(request, "admin")
    if request.method == "POST" and form.is_valid():
        step = request.POST.get("step", "")
        data = form.cleaned_data
        try:
            if step in (Stage.FEASIBLE, Stage.CALLED, Stage.INSTALLED):
                applications.move(application.pk, step, actor, note=data["note"])
            elif step == Stage.REJECTED:
                applications.reject(application.pk, data["reason"], actor)
            elif step == Stage.CANCELLED:
                applications.cancel(application.pk, actor, reason=data["reason"])
            elif step == Stage.SCHEDULED:
                applications.schedule(application.pk, data["slot_id"] or 0, actor)
            elif step == Stage.ACTIVE:
                applications.activate(application.pk, actor)
            elif step == Stage.SIGNED:
                signed = applications.sign_contract(
                    application.pk, actor, tariff_id=data["tariff_id"]
                )
                # The only moment the initial password exists in clear: it goes into the
                # printed contract and nowhere else.
                pdf = documents.contract_pdf(
                    signed.new.contract, password=signed.new.initial_password
                )
                response = HttpResponse(pdf, content_type="application/pdf")
                response["Content-Disposition"] = (
                    f'attachment; filename="contract-{signed.new.contract.number}.pdf"'
                )
                response["Cache-Control"] = "no-store"
                return response
            else:
                messages.error(request, gettext("Unknown action."))
                return redirect("staff:application", application_id=application.pk)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("staff:application", application_id=application.pk)
    audit.record(actor, "application.viewed", application, contract_id=application.contract_id)
    return render(
        request,
        "staff/application.html",
        {
            "a": application,
            "form": form,
            "events": application.events.select_related("actor"),
            "next": applications.NEXT.get(application.stage, ()),
            "slot": getattr(application, "slot", None),
            "section": "applications",
        },
    )


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def office_application_view(request: HttpRequest) -> HttpResponse:
    """A walk-in at the office: the same application, the same pipeline."""
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = applications.submit(
                form.application_data(),
                source=Application.Source.OFFICE,
                ip=None,
                status_url=request.build_absolute_uri(reverse("cabinet:apply")) + "{id}/",
                actor=Actor.from_request(request, "admin"),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("staff:application", application_id=result.application.pk)
    return render(request, "staff/application_new.html", {"form": form, "section": "applications"})
