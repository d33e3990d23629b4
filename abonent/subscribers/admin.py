from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from abonent.accounts import services as accounts
from abonent.core.context import Actor
from abonent.core.errors import DomainError
from abonent.network.services import Relogin, apply_access

from .models import Address, Contract, ContractAddOn, Subscriber


class TemporaryPasswordForm(forms.Form):
    checks = forms.MultipleChoiceField(
        label=_("Identity checks done"),
        choices=list(accounts.IDENTITY_CHECKS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask the caller for the contract number and at least one more item."),
    )


class ContractInline(admin.TabularInline):
    model = Contract
    fields = ["number", "status", "tariff", "signed_on"]
    readonly_fields = ["number"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "email", "created_at"]
    search_fields = ["last_name", "first_name", "phone", "email", "contracts__number"]
    inlines = [ContractInline]


class ContractAddOnInline(admin.TabularInline):
    model = ContractAddOn
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "subscriber", "status", "tariff", "signed_on"]
    list_filter = ["status", "tariff"]
    search_fields = ["=number", "subscriber__last_name", "subscriber__phone", "address__street"]
    list_select_related = ["subscriber", "tariff"]
    raw_id_fields = ["subscriber", "address", "user"]
    readonly_fields = ["number", "user", "created_at"]
    inlines = [ContractAddOnInline]
    actions = ["restore_cabinet"]
    change_form_template = "staff/contract_change_form.html"

    def has_delete_permission(self, request, obj=None):
        return False  # contract numbers are never reused; contracts are terminated, not deleted

    def save_related(self, request, form, formsets, change):
        # Status, tariff and add-ons edited here decide network access too.
        super().save_related(request, form, formsets, change)
        apply_access([form.instance.pk], "edited in the back office", relogin=Relogin.GARDEN)

    def get_urls(self):
        custom = [
            path(
                "<int:object_id>/temporary-password/",
                self.admin_site.admin_view(self.temporary_password_view),
                name="subscribers_contract_temporary_password",
            )
        ]
        return custom + super().get_urls()

    def temporary_password_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Hotline reset: record the identity checks, get a password shown once."""
        contract = get_object_or_404(
            Contract.objects.select_related("user", "subscriber"), pk=object_id
        )
        form = TemporaryPasswordForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "contract": contract,
            "form": form,
            "title": _("Temporary password"),
        }
        if request.method == "POST" and form.is_valid():
            try:
                password = accounts.issue_temporary_password(
                    contract.user, form.cleaned_data["checks"], Actor.from_request(request, "admin")
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))
                for errors in exc.fields.values():
                    for error in errors:
                        form.add_error(None, str(error))
            else:
                return render(
                    request,
                    "staff/temporary_password_issued.html",
                    {**context, "password": password},
                )
        return render(request, "staff/temporary_password.html", context)

    @admin.action(description=_("Switch cabinet access back on"))
    def restore_cabinet(self, request: HttpRequest, queryset) -> None:
        actor = Actor.from_request(request, "admin")
        try:
            for contract in queryset.select_related("user"):
                accounts.restore_cabinet(contract.user, actor)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("Cabinet access is on again."), messages.SUCCESS)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["street", "house", "building", "flat", "city"]
    search_fields = ["street", "house"]
