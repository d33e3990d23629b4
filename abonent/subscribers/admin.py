from django.contrib import admin

from .models import Address, Contract, ContractAddOn, Subscriber


class ContractInline(admin.TabularInline):
    model = Contract
    fields = ["number", "status", "tariff", "signed_on"]
    readonly_fields = ["number"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "email", "created_at"]
    search_fields = ["last_name", "first_name", "phone", "email", "contracts__number"]
    inlines = [ContractInline]


class ContractAddOnInline(admin.TabularInline):
    model = ContractAddOn
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "subscriber", "status", "tariff", "signed_on"]
    list_filter = ["status", "tariff"]
    search_fields = ["=number", "subscriber__last_name", "subscriber__phone", "address__street"]
    list_select_related = ["subscriber", "tariff"]
    raw_id_fields = ["subscriber", "address", "user"]
    readonly_fields = ["number", "user", "created_at"]
    inlines = [ContractAddOnInline]

    def has_delete_permission(self, request, obj=None):
        return False  # contract numbers are never reused; contracts are terminated, not deleted


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["street", "house", "building", "flat", "city"]
    search_fields = ["street", "house"]
