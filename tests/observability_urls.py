"""The product's URLs plus one view that fails, for the error-reporting test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as product

__all__ = ["handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    passport = request.GET.get("passport", "")  # a local that must never leave the machine
    raise RuntimeError(f"the billing engine fell over ({len(passport)})")


urlpatterns = [path("boom/", boom), *product]
