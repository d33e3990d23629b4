from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox, read-only: with the console gateway this is where a local user reads
    the codes; with a real gateway one-time codes here are masked."""

    list_display = ["created_at", "channel", "to", "kind", "text", "status", "attempts", "gateway"]
    list_filter = ["status", "channel", "kind", "gateway"]
    search_fields = ["to", "=contract_id", "provider_id"]
    exclude = ["body", "call_code_digest"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
