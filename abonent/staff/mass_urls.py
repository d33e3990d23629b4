"""URLs in the `staff` namespace, mounted at /staff/mass/ (filled by the mass views)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
