from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .addresses import house_key, street_key
from .models import Application, ApplicationEvent, Building, InstallSlot, Street


class StreetForm(forms.ModelForm):
    class Meta:
        model = Street
        fields = ["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        key = street_key(name)
        if not key.name:
            raise forms.ValidationError(_("Enter the street's name."))
        if Street.objects.filter(key=str(key)).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This street is already in the register."))
        self.instance.key, self.instance.name_key = str(key), key.name
        return name


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    form = StreetForm
    list_display = ["name", "key"]
    search_fields = ["name", "name_key"]
    readonly_fields = ["key", "name_key"]


class BuildingForm(forms.ModelForm):
    class Meta:
        model = Building
        fields = [
            "street",
            "house",
            "entrances",
            "flats",
            "network",
            "free_ports",
            "planned_on",
        ]

    def clean(self) -> dict:
        data = super().clean() or {}
        key = house_key(data.get("house") or "")
        if key is None:
            self.add_error("house", _("Enter a house number such as 10, 10к2 or 10 лит. А."))
            return data
        street = data.get("street")
        taken = Building.objects.filter(street=street, house_key=key).exclude(pk=self.instance.pk)
        if street is not None and taken.exists():
            self.add_error("house", _("This house is already in the register."))
        self.instance.house_key = key
        return data


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    """The coverage register; bulk loads: `manage.py import_coverage file.csv`."""

    list_display = ["street", "house", "network", "free_ports", "entrances", "flats", "planned_on"]
    list_filter = ["network"]
    search_fields = ["street__name", "house"]
    raw_id_fields = ["street"]
    readonly_fields = ["house_key"]
    form = BuildingForm


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
