from django.contrib import admin

from .models import AddOn, Tariff


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "monthly_price",
        "charging_mode",
        "speed_in_mbps",
        "is_archived",
    ]
    list_filter = ["charging_mode", "is_archived"]
    search_fields = ["name", "code"]


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "price", "billing", "is_archived"]
    list_filter = ["billing", "is_archived"]
    search_fields = ["name", "code"]
