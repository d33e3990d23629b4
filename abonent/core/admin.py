from django.contrib import admin

from .models import AuditLog


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through services (money, sessions, provider calls):
    the admin shows them, never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "channel", "action", "object_type", "object_id", "ip"]
    list_filter = ["action", "channel"]
    search_fields = ["object_id", "=contract_id", "actor__username"]
    date_hierarchy = "created_at"

    # The log is append-only, even for superusers.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
