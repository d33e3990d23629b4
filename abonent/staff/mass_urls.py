"""URLs in the `staff` namespace, mounted at /staff/mass/: price changes and messages to
subscribers, with their progress."""

from django.urls import path

from .views import mass

urlpatterns = [
    path("", mass.list_view, name="mass"),
    path("price/", mass.price_view, name="mass_price"),
    path("message/", mass.message_view, name="mass_message"),
    path("<int:operation_id>/", mass.operation_view, name="mass_operation"),
    path("<int:operation_id>/progress/", mass.progress_view, name="mass_progress"),
]
