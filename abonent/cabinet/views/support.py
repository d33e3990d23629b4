"""Support in the cabinet: known outages first, then the subscriber's tickets, a new
question with photos or PDFs, the conversation, close, reopen and rate."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from abonent.core import clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.subscribers.selectors import contract_for_user
from abonent.support import attachments, selectors, services
from abonent.support.models import Category, Ticket

from ..access import me, subscriber_required
from .util import apply_domain_error


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Topic"), choices=[("", "—"), *Category.choices])
    subject = forms.CharField(label=_("Subject"), max_length=150)
    text = forms.CharField(label=_("Your question"), max_length=5000, widget=forms.Textarea)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your answer"), max_length=5000, widget=forms.Textarea)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How good was the answer?"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Comment"), max_length=1000, required=False)


def _files(request: HttpRequest) -> list:
    return request.FILES.getlist("attachments")


@subscriber_required
def support_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    return render(
        request,
        "cabinet/support.html",
        {
            "outages": selectors.outages_at(contract.address, clock.now()),
            "now": clock.now(),
            "tickets": selectors.tickets_for(contract),
            "section": "support",
        },
    )


@subscriber_required
@require_http_methods(["GET", "POST"])
def new_ticket_view(request: HttpRequest) -> HttpResponse:
    contract = contract_for_user(me(request))
    form = TicketForm(request.POST or None, initial={"key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.open_ticket(
                contract,
                category=data["category"],
                subject=data["subject"],
                text=data["text"],
                files=_files(request),
                actor=Actor.from_request(request),
                key=data["key"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, gettext("Your question is sent. We will answer here."))
            return redirect("cabinet:ticket", ticket_id=ticket.pk)
    return render(
        request,
        "cabinet/support_new.html",
        {
            "form": form,
            "outages": selectors.outages_at(contract.address, clock.now(), current_only=True),
            "now": clock.now(),
            "max_files": settings.ATTACHMENTS_PER_MESSAGE,
            "max_size": settings.ATTACHMENT_MAX_BYTES,
            "section": "support",
        },
    )


@subscriber_required
@require_http_methods(["GET", "POST"])
def ticket_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    contract = contract_for_user(me(request))
    ticket = selectors.ticket_for(contract, ticket_id)
    reply = ReplyForm(request.POST or None)
    if request.method == "POST" and reply.is_valid():
        try:
            services.subscriber_reply(
                ticket.pk, reply.cleaned_data["text"], _files(request), Actor.from_request(request)
            )
        except DomainError as exc:
            apply_domain_error(reply, exc)
        else:
            messages.success(request, gettext("Sent."))
            return redirect("cabinet:ticket", ticket_id=ticket.pk)
    return render(
        request,
        "cabinet/support_ticket.html",
        {
            "ticket": ticket,
            "reply": reply,
            "rating": RatingForm(),
            "can_rate": ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
            and ticket.rating is None,
            "max_files": settings.ATTACHMENTS_PER_MESSAGE,
            "section": "support",
        },
    )


@subscriber_required
@require_POST
def ticket_action_view(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    contract = contract_for_user(me(request))
    ticket = selectors.ticket_for(contract, ticket_id)
    actor = Actor.from_request(request)
    try:
        if action == "close":
            services.close(ticket.pk, actor)
            messages.success(request, gettext("The ticket is closed. Thank you!"))
        elif action == "reopen":
            services.reopen(ticket.pk, actor)
            messages.success(request, gettext("The ticket is open again."))
        elif action == "rate":
            form = RatingForm(request.POST)
            if not form.is_valid():
                messages.error(request, gettext("Choose a rating from 1 to 5."))
            else:
                services.rate(
                    ticket.pk, form.cleaned_data["score"], form.cleaned_data["comment"], actor
                )
                messages.success(request, gettext("Thank you for the rating!"))
        else:
            messages.error(request, gettext("Unknown action."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("cabinet:ticket", ticket_id=ticket.pk)


@subscriber_required
def attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    contract = contract_for_user(me(request))
    return attachments.response_for(selectors.attachment_for_subscriber(contract, attachment_id))
