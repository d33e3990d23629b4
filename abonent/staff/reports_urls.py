"""URLs in the `staff` namespace, mounted at /staff/reports/ (filled by the reports views)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
