from django.contrib import admin

from .models import Application, ApplicationEvent, Building, InstallSlot, Street


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["name", "key"]
    search_fields = ["name", "name_key"]
    readonly_fields = ["key", "name_key"]

    def save_model(self, request, obj, form, change):
        from .addresses import street_key

        key = street_key(obj.name)
        obj.key, obj.name_key = str(key), key.name
        super().save_model(request, obj, form, change)


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    """The coverage register; bulk loads: `manage.py import_coverage file.csv`."""

    list_display = ["street", "house", "network", "free_ports", "entrances", "flats", "planned_on"]
    list_filter = ["network"]
    search_fields = ["street__name", "house"]
    raw_id_fields = ["street"]
    readonly_fields = ["house_key"]

    def save_model(self, request, obj, form, change):
        from .addresses import house_key

        obj.house_key = house_key(obj.house) or obj.house.lower()
        super().save_model(request, obj, form, change)


@admin.register(InstallSlot)
class InstallSlotAdmin(admin.ModelAdmin):
    list_display = ["technician", "starts_at", "ends_at", "application"]
    list_filter = ["technician"]
    raw_id_fields = ["application"]


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["stage", "actor", "note", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read here; work the pipeline at /staff/applications/."""

    list_display = ["pk", "full_name", "phone", "street_text", "house_text", "coverage", "stage"]
    list_filter = ["stage", "coverage", "source"]
    search_fields = ["full_name", "phone", "street_text"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
