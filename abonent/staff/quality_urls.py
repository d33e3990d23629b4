"""Quality control pages (dashboard, monthly report). Names are in the `staff` namespace."""

from django.urls import path

from .views import quality

urlpatterns = [
    path("", quality.dashboard_view, name="quality"),
]
