"""URLs in the `staff` namespace, mounted at /staff/imports/ (filled by the imports views)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
