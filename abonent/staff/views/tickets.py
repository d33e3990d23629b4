"""The support desk for staff: a queue with filters, and a ticket beside the
subscriber's account, sessions and recent traffic; replies with canned answers,
internal notes, assignment and status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from abonent.accounts.models import User
from abonent.billing.selectors import account_overview
from abonent.cabinet.views.util import apply_domain_error
from abonent.core import audit, clock
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.network import selectors as network
from abonent.support import attachments, selectors, services
from abonent.support.models import Attachment, CannedAnswer, Category, Ticket

from ..access import staff_required

ROLES = ("operator", "technician", "manager", "admin")


def _staff_choices() -> list[tuple[str, str]]:
    people = User.objects.filter(kind=User.Kind.STAFF, is_active=True).order_by("username")
    return [(str(u.pk), u.full_name or u.username) for u in people]


class QueueForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Open")), ("all", _("All")), *Ticket.Status.choices],
    )
    category = forms.ChoiceField(
        label=_("Topic"), required=False, choices=[("", _("All")), *Category.choices]
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    breached = forms.BooleanField(label=_("SLA breached"), required=False)
    older_than_hours = forms.IntegerField(
        label=_("Older than, hours"), required=False, min_value=0, max_value=24 * 365
    )
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody")),
            *_staff_choices(),
        ]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Answer"), max_length=5000, widget=forms.Textarea)
    internal = forms.BooleanField(
        label=_("Internal note (the subscriber does not see it)"), required=False
    )
    wait = forms.BooleanField(label=_("Wait for the subscriber's answer"), required=False)


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody")), *_staff_choices()]


@staff_required(*ROLES)
def queue_view(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.GET or None)
    tickets = Ticket.objects.none()
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        tickets = selectors.queue(
            selectors.QueueFilter(
                status=data.get("status") or "open",
                category=data.get("category") or "",
                assignee=data.get("assignee") or "",
                breached=bool(data.get("breached")),
                older_than_hours=data.get("older_than_hours"),
                q=data.get("q") or "",
            ),
            me_id=int(request.user.pk or 0),
        )[:200]
    return render(
        request, "staff/tickets.html", {"form": form, "rows": tickets, "section": "tickets"}
    )


def _sidebar(ticket: Ticket) -> dict[str, Any]:
    contract = ticket.contract
    if contract is None:
        return {}
    today = clock.today()
    return {
        "overview": account_overview(contract),
        "online": network.online(contract),
        "sessions": network.sessions(contract, today - dt.timedelta(days=30), today, limit=10),
        "traffic": network.traffic(contract, today - dt.timedelta(days=6), today),
    }


@staff_required(*ROLES)
@require_http_methods(["GET", "POST"])
def ticket_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = get_object_or_404(
        Ticket.objects.select_related("contract__subscriber", "contract__address", "assignee"),
        pk=ticket_id,
    )
    actor = Actor.from_request(request, "admin")
    action = request.POST.get("action", "reply")
    canned_id = request.GET.get("canned", "")
    canned = (
        CannedAnswer.objects.filter(pk=int(canned_id), active=True).first()
        if canned_id.isascii() and canned_id.isdecimal()
        else None
    )
    reply = ReplyForm(
        request.POST if request.method == "POST" and action == "reply" else None,
        initial={"text": canned.text if canned else ""},
    )
    assign = AssignForm(initial={"assignee": ticket.assignee_id or ""})
    if request.method == "POST":
        try:
            if action == "reply":
                if reply.is_valid():
                    services.staff_reply(
                        ticket.pk,
                        reply.cleaned_data["text"],
                        request.FILES.getlist("attachments"),
                        actor,
                        internal=reply.cleaned_data["internal"],
                        wait_for_subscriber=reply.cleaned_data["wait"],
                    )
                    messages.success(request, gettext("Sent."))
                    return redirect("staff:ticket", ticket_id=ticket.pk)
            elif action == "assign":
                chosen = request.POST.get("assignee") or ""
                if chosen == "me":
                    chosen = str(request.user.pk)
                number = chosen.isascii() and chosen.isdecimal() and len(chosen) < 12
                services.assign(ticket.pk, int(chosen) if number else None, actor)
                return redirect("staff:ticket", ticket_id=ticket.pk)
            elif action in ("resolve", "close", "reopen"):
                {"resolve": services.resolve, "close": services.close, "reopen": services.reopen}[
                    action
                ](ticket.pk, actor)
                return redirect("staff:ticket", ticket_id=ticket.pk)
            else:
                messages.error(request, gettext("Unknown action."))
        except DomainError as exc:
            if reply.is_bound:
                apply_domain_error(reply, exc)
            else:  # assign / resolve / close / reopen: no form to show it on
                messages.error(request, str(exc.message))
                return redirect("staff:ticket", ticket_id=ticket.pk)
    if ticket.contract_id:
        audit.record(actor, "ticket.viewed", ticket, contract_id=ticket.contract_id)
    now = clock.now()
    canned_answers = CannedAnswer.objects.filter(active=True).filter(
        Q(category="") | Q(category=ticket.category)
    )
    return render(
        request,
        "staff/ticket.html",
        {
            "ticket": ticket,
            "ticket_messages": ticket.messages.select_related("author").prefetch_related(
                "attachments"
            ),
            "reply": reply,
            "assign": assign,
            "canned_answers": canned_answers,
            "elapsed_minutes": services.elapsed(ticket, now) // 60,
            "section": "tickets",
            **_sidebar(ticket),
        },
    )


@staff_required(*ROLES)
def attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = get_object_or_404(
        Attachment.objects.select_related("message__ticket"), pk=attachment_id
    )
    audit.record(
        Actor.from_request(request, "admin"),
        "attachment.viewed",
        attachment,
        contract_id=attachment.message.ticket.contract_id,
    )
    return attachments.response_for(attachment)
