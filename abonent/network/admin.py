from django.contrib import admin

from abonent.core.admin import ReadOnlyAdmin

from . import services
from .models import AccessChange, Credential, Nas, Session, TrafficDaily


@admin.register(Nas)
class NasAdmin(admin.ModelAdmin):
    """The NAS registry: routers FreeRADIUS answers (re-run `manage.py radius_config`
    after a change, then reload FreeRADIUS)."""

    list_display = ["name", "ip", "vendor", "coa_port", "active"]
    list_filter = ["vendor", "active"]
    search_fields = ["name", "ip"]


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["login", "contract", "static_ip"]
    search_fields = ["login", "=contract__number", "static_ip"]
    raw_id_fields = ["contract"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.credentials_changed(obj.contract_id)

    def has_delete_permission(self, request, obj=None):
        return False  # access ends by termination or suspension, which keep RADIUS in step


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = [
        "login",
        "nas",
        "framed_ip",
        "started_at",
        "stopped_at",
        "bytes_in",
        "bytes_out",
        "terminate_cause",
    ]
    list_filter = ["nas", "terminate_cause"]
    search_fields = ["login", "session_id", "=contract__number", "framed_ip"]


@admin.register(AccessChange)
class AccessChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "contract", "kind", "reason", "result"]
    list_filter = ["kind", "result"]


@admin.register(TrafficDaily)
class TrafficDailyAdmin(ReadOnlyAdmin):
    list_display = ["contract", "day", "bytes_in", "bytes_out"]
    search_fields = ["=contract__number"]
