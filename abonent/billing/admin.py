from django.contrib import admin

from abonent.core.admin import ReadOnlyAdmin

from .models import Account, BillingRun, LedgerEntry, PromisedPayment, Suspension, TariffChange


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["contract", "balance", "currency", "updated_at"]
    search_fields = ["=contract__number"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["effective_date", "account", "kind", "amount", "description", "idempotency_key"]
    list_filter = ["kind"]
    search_fields = ["=account__contract__number", "idempotency_key"]
    date_hierarchy = "effective_date"


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "date",
        "status",
        "contracts_done",
        "contracts_total",
        "charges_created",
        "amount_charged",
        "blocked",
        "reminders",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]
    date_hierarchy = "date"


@admin.register(TariffChange)
class TariffChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "contract",
        "from_tariff",
        "to_tariff",
        "effective_date",
        "status",
        "fee",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["=contract__number"]


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ["contract", "start_date", "end_date", "status", "fee", "ended_on"]
    list_filter = ["status"]
    search_fields = ["=contract__number"]


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(ReadOnlyAdmin):
    list_display = ["contract", "amount", "taken_on", "expires_on", "status"]
    list_filter = ["status"]
    search_fields = ["=contract__number"]
