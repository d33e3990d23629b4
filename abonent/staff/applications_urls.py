from django.urls import path

from .views import applications

urlpatterns = [
    path("", applications.board_view, name="applications"),
    path("new/", applications.office_application_view, name="application_new"),
    path("<int:application_id>/", applications.application_view, name="application"),
]
