"""Management reports, mounted at /staff/reports/. Names are in the `staff` namespace."""

from django.urls import path

from .views import reports

urlpatterns = [
    path("", reports.index_view, name="reports"),
    path("<str:name>.<str:fmt>", reports.export_view, name="report_export"),
]
