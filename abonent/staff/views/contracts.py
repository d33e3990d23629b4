"""The "lost contract" desk: find a contract by number, name, phone or address, open the
card, print a copy without the password, or a copy with a new temporary password after
checking who is asking. Every read of a subscriber's data here is written to the audit
log (152-FZ); issuing the password is audited by the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from abonent.accounts import services as accounts
from abonent.accounts.permissions import STAFF_ACTIONS
from abonent.billing.selectors import account_overview
from abonent.cabinet.views.util import apply_domain_error
from abonent.core import audit, phones
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.network.models import Credential
from abonent.subscribers import documents, selectors
from abonent.subscribers.models import Contract

from ..access import staff_required
from .card import card_context

ROLES = STAFF_ACTIONS["view_subscriber"]
# Who may issue a temporary password (the service checks the same).
PASSWORD_ROLES = STAFF_ACTIONS["temporary_password"]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Contract number, name, phone or address"),
        required=False,
        max_length=selectors.MAX_QUERY_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True}),
    )


class CopyWithPasswordForm(forms.Form):
    checks = forms.MultipleChoiceField(
        label=_("Identity checks done"),
        choices=list(accounts.IDENTITY_CHECKS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask for the contract number and at least one more item."),
        error_messages={"required": _("Mark at least two identity checks you have done.")},
    )

    def clean_checks(self) -> list[str]:
        checks = self.cleaned_data["checks"]
        if len(set(checks)) < accounts.MIN_IDENTITY_CHECKS:
            raise forms.ValidationError(_("Mark at least two identity checks you have done."))
        return checks


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, "admin")


def _contract(contract_id: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("subscriber", "address", "tariff", "user"),
        pk=contract_id,
    )


def _may_issue_password(user: Any) -> bool:
    return bool(user.is_superuser or user.role in PASSWORD_ROLES)


def _pdf_response(contract: Contract, pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="contract-{contract.number}-{name}.pdf"'
    return response


@staff_required(*ROLES)
@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    rows: list[tuple[Contract, str]] = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            found = selectors.search_contracts(query)
            rows = [(c, phones.display(c.subscriber.phone)) for c in found]
            # Names, phones and addresses on the screen are a read of personal data: one
            # row per contract shown, so each subscriber's own log lists the search too.
            audit.record_many(_actor(request), "contract.found", found, after={"query": query})
    return render(
        request,
        "staff/contracts.html",
        {"form": form, "rows": rows, "query": query, "section": "contracts"},
    )


def _render_contract(
    request: HttpRequest, contract: Contract, form: CopyWithPasswordForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "staff/contract.html",
        {
            "contract": contract,
            "phone": phones.display(contract.subscriber.phone),
            "phone_alt": phones.display(contract.subscriber.phone_alt)
            if contract.subscriber.phone_alt
            else "",
            "passport": documents.mask_passport(contract.subscriber),
            "addons": documents.active_addons(contract),
            "credential": Credential.objects.filter(contract_id=contract.pk).first(),
            "overview": account_overview(contract),
            "form": form,
            "may_issue_password": _may_issue_password(request.user),
            "section": "contracts",
            **card_context(contract, request.user),
        },
        status=status,
    )


@staff_required(*ROLES)
@require_GET
def contract_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _contract(contract_id)
    audit.record(_actor(request), "contract.viewed", contract, contract_id=contract.pk)
    return _render_contract(request, contract, CopyWithPasswordForm())


@staff_required(*STAFF_ACTIONS["contract_copy"])
@require_GET
@never_cache
def copy_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """A copy of the contract without any password."""
    contract = _contract(contract_id)
    pdf = documents.contract_pdf(contract, password=None)
    audit.record(
        _actor(request),
        "contract.copy_printed",
        contract,
        contract_id=contract.pk,
        after={"with_password": False},
    )
    return _pdf_response(contract, pdf, "copy")


@staff_required(*STAFF_ACTIONS["contract_copy"])
@require_http_methods(["GET", "POST"])
@never_cache
def copy_with_password_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """A copy with a new temporary password: the operator marks the identity checks done;
    the service issues the password (the subscriber must change it at the next login,
    every session ends) and audits it; the password exists only in this PDF."""
    if request.method != "POST":
        return redirect("staff:contract", contract_id=contract_id)
    contract = _contract(contract_id)
    form = CopyWithPasswordForm(request.POST)
    if not form.is_valid():
        return _render_contract(request, contract, form, status=400)
    actor = _actor(request)
    try:
        # One transaction: if the document cannot be made, no password was changed.
        with transaction.atomic():
            password = accounts.issue_temporary_password(
                contract.user, form.cleaned_data["checks"], actor
            )
            pdf = documents.contract_pdf(contract, password=password)
            audit.record(
                actor,
                "contract.copy_printed",
                contract,
                contract_id=contract.pk,
                after={"with_password": True},
            )
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _render_contract(request, contract, form, status=400)
    return _pdf_response(contract, pdf, "copy-new-password")
