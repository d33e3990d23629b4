"""Contract termination pages. Names are in the `staff` namespace."""

from django.urls import path

from .views import termination

urlpatterns = [
    path("<int:contract_id>/terminate/", termination.terminate_view, name="contract_terminate"),
]
