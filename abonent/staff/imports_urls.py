"""URLs in the `staff` namespace, mounted at /staff/import/: subscribers from CSV."""

from django.urls import path

from .views import imports

urlpatterns = [
    path("", imports.import_view, name="import_subscribers"),
]
