from django.urls import path

from . import sandbox_views

app_name = "sandbox"

urlpatterns = [
    path("<str:payment_id>/", sandbox_views.pay, name="pay"),
    path("<str:payment_id>/3ds/", sandbox_views.three_ds, name="three_ds"),
]
