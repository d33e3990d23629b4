from django.contrib import admin

from .models import Account, LedgerEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money changes only through services (a correction is a new entry)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
