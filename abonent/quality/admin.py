from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from . import selectors
from .models import Thresholds


@admin.register(Thresholds)
class ThresholdsAdmin(admin.ModelAdmin):
    """One row: the list goes straight to its form."""

    fieldsets = [
        (None, {"fields": ["line_drops_per_day"]}),
        (None, {"fields": ["building_min_subscribers", "building_window_minutes"]}),
        (
            None,
            {
                "fields": [
                    "stability_target_percent",
                    "csat_target_percent",
                    "first_response_breach_max_percent",
                ]
            },
        ),
    ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        row = selectors.thresholds()
        return HttpResponseRedirect(reverse("admin:quality_thresholds_change", args=[row.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Thresholds | None = None) -> bool:
        return False
