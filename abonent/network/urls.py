from django.urls import path

from . import views

app_name = "radius"

urlpatterns = [
    path("authorize/", views.authorize, name="authorize"),
    path("accounting/", views.accounting, name="accounting"),
]
