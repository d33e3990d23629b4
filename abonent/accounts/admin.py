from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from abonent.core.context import Actor
from abonent.core.errors import DomainError

from . import throttle
from .models import ApiToken, LoginLock, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "kind", "role", "full_name", "is_active", "last_login"]
    list_filter = ["kind", "role", "is_active"]
    search_fields = ["username", "full_name", "email"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("kind", "role", "full_name", "email")}),
        (
            _("Access"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "password_change_required",
                    "groups",
                )
            },
        ),
        (_("Dates"), {"fields": ("last_login", "password_changed_at", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "kind", "role", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "password_changed_at", "date_joined"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "device_name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "device_name"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    """Temporary login locks: staff see them and lift them (audited)."""

    list_display = ["scope", "key", "created_at", "locked_until", "lifted_at", "lifted_by"]
    list_filter = ["scope"]
    search_fields = ["=key"]
    actions = ["lift"]
    readonly_fields = [f.name for f in LoginLock._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Lift the lock"))
    def lift(self, request, queryset):
        actor = Actor.from_request(request, "admin")
        try:
            for lock in queryset:
                throttle.lift(lock.pk, actor)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("Lifted."), messages.SUCCESS)
