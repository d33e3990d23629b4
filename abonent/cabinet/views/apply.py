"""The public way in (no login): apply for a connection with an instant coverage
answer, then follow the application on its status page (the SMS links there)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonent.applications import coverage
from abonent.applications import services as applications
from abonent.applications.models import Application, Stage
from abonent.catalog.models import Audience, Tariff
from abonent.core.context import Actor, client_ip
from abonent.core.errors import DomainError, Throttled

from .util import apply_domain_error


class ApplyForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(
        label=_("Phone"), max_length=30, widget=forms.TextInput(attrs={"type": "tel"})
    )
    street = forms.CharField(
        label=_("Street"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "list": "street-options",
                "autocomplete": "off",
                "hx-get": "/apply/streets/",
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#street-options",
                "hx-swap": "innerHTML",
            }
        ),
    )
    house = forms.CharField(label=_("House"), max_length=30)
    flat = forms.CharField(label=_("Flat"), max_length=10, required=False)
    tariff_id = forms.TypedChoiceField(
        label=_("Tariff"), required=False, coerce=int, empty_value=None
    )
    call_time = forms.ChoiceField(
        label=_("When to call you"), choices=Application.CallTime.choices, required=False
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to the processing of my personal data (152-FZ) to handle this application."
        ),
        required=False,
    )
    # A field people never see (hidden by CSS): robots fill it in.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tariffs = Tariff.objects.filter(is_archived=False, audience=Audience.EVERYONE).order_by(
            "sort_order", "monthly_price"
        )
        field = self.fields["tariff_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose later"))] + [
            (t.pk, f"{t.name} · {t.price}") for t in tariffs
        ]

    def application_data(self) -> applications.ApplicationData:
        data = self.cleaned_data
        return applications.ApplicationData(
            full_name=data["full_name"],
            phone=data["phone"],
            street=data["street"],
            house=data["house"],
            flat=data["flat"],
            tariff_id=data["tariff_id"],
            call_time=data["call_time"] or Application.CallTime.ANY,
            comment=data["comment"],
            consent=data["consent"],
        )


@require_http_methods(["GET", "POST"])
def apply_view(request: HttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST or None, initial={"tariff_id": request.GET.get("tariff")})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A robot: answer as if accepted, keep nothing.
            return render(request, "public/apply_thanks.html", {})
        try:
            result = applications.submit(
                form.application_data(),
                source=Application.Source.WEB,
                ip=client_ip(request),
                status_url=request.build_absolute_uri(reverse("cabinet:apply")) + "{id}/",
                actor=Actor.from_request(request),
            )
        except Throttled as exc:
            form.add_error(None, str(exc.message))
            status = 429
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            if not result.created:
                # Not shown here: whoever typed this may not own the phone.
                return render(request, "public/apply_again.html", {})
            target = reverse("cabinet:application", args=[result.application.public_id])
            token = applications.phone_token(result.application)
            return redirect(f"{target}?t={token}")
    return render(request, "public/apply.html", {"form": form}, status=status)


@require_GET
def streets_view(request: HttpRequest) -> HttpResponse:
    """Options for the street field's datalist, as the applicant types."""
    streets = coverage.suggest_streets(request.GET.get("street", "") or request.GET.get("q", ""))
    return render(request, "public/street_options.html", {"streets": streets})


def application_view(request: HttpRequest, public_id: str) -> HttpResponse:
    application = get_object_or_404(
        Application.objects.select_related("building__street", "tariff"), public_id=public_id
    )
    applications.confirm_phone(application, request.GET.get("t"))
    answer = None
    if application.building is not None or application.coverage:
        try:
            answer = coverage.check(application.street_text, application.house_text)
        except DomainError:
            answer = None
    events = [e for e in application.events.all() if e.stage != Stage.NEW]
    slot = getattr(application, "slot", None)
    return render(
        request,
        "public/application.html",
        {
            "a": application,
            "answer": answer,
            "events": events,
            "slot": slot,
            "not_covered": application.coverage == "not_covered",
        },
    )


@require_POST
def application_cancel_view(request: HttpRequest, public_id: str) -> HttpResponse:
    application = get_object_or_404(Application, public_id=public_id)
    try:
        applications.cancel(application.pk, Actor.system("web"), reason=gettext("by the applicant"))
    except DomainError as exc:
        from django.contrib import messages

        messages.error(request, str(exc.message))
    return redirect("cabinet:application", public_id=public_id)


@require_POST
def watch_view(request: HttpRequest, public_id: str) -> HttpResponse:
    application = get_object_or_404(Application, public_id=public_id)
    from django.contrib import messages

    try:
        applications.watch(application.phone, application.street_text, application.house_text)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, gettext("We will send an SMS when your house is connected."))
    return redirect("cabinet:application", public_id=public_id)
