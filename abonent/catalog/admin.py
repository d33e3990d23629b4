from django.contrib import admin

from . import services
from .models import AddOn, BillingPolicy, Tariff, TariffPrice


class TariffPriceInline(admin.TabularInline):
    """The price history, read-only here: a new price is added as a dated row below."""

    model = TariffPrice
    fields = ["valid_from", "monthly_price", "created_by", "created_at"]
    readonly_fields = ["valid_from", "monthly_price", "created_by", "created_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "monthly_price",
        "charging_mode",
        "speed_in_mbps",
        "change_rule",
        "audience",
        "is_archived",
    ]
    list_filter = ["charging_mode", "is_archived", "audience"]
    search_fields = ["name", "code"]
    inlines = [TariffPriceInline]

    def get_readonly_fields(self, request, obj=None):
        # The price of an existing tariff changes only through a dated price row.
        return ["monthly_price"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"speed_in_mbps", "speed_out_mbps"} & set(form.changed_data):
            services.speed_changed(obj)


@admin.register(TariffPrice)
class TariffPriceAdmin(admin.ModelAdmin):
    """The price history. A new price is set in the back office (Mass operations →
    price change): it previews who is affected and tells every subscriber in advance,
    as the law requires; a row added here would skip the notice."""

    list_display = ["tariff", "monthly_price", "valid_from", "created_by", "created_at"]
    list_filter = ["tariff"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "price", "billing", "charges_while_suspended", "is_archived"]
    list_filter = ["billing", "is_archived"]
    search_fields = ["name", "code"]


@admin.register(BillingPolicy)
class BillingPolicyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return not BillingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
