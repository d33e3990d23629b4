"""Quality control pages (dashboard, monthly report). Names are in the `staff` namespace."""

from django.urls import path

from .views import quality

urlpatterns = [
    path("", quality.dashboard_view, name="quality"),
    path("report.pdf", quality.report_pdf_view, name="quality_report_pdf"),
    path("report.csv", quality.report_csv_view, name="quality_report_csv"),
]
