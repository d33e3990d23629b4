from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from abonent.core import clock

from . import services
from .models import CannedAnswer, Outage, OutageArea, SlaTarget


class OutageAreaInline(admin.TabularInline):
    model = OutageArea
    extra = 3


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Declare an outage: subscribers at these addresses see it on Home and in Support,
    and tickets they open meanwhile are linked to it."""

    list_display = ["title", "starts_at", "expected_end_at", "ended_at"]
    list_filter = ["ended_at"]
    search_fields = ["title", "areas__street"]
    inlines = [OutageAreaInline]
    fields = ["title", "text", "starts_at", "expected_end_at", "ended_at"]
    actions = ["end_now"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.instance.ended_at is None:  # the areas are saved now: tell who lives there
            services.announce_outage(form.instance.pk)

    @admin.action(description=_("End the selected outages now"))
    def end_now(self, request, queryset):
        queryset.filter(ended_at__isnull=True).update(ended_at=clock.now())


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ["category", "first_response_minutes", "resolution_minutes"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CannedAnswer)
class CannedAnswerAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "active"]
    list_filter = ["category", "active"]
    search_fields = ["title", "text"]
