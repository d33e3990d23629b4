from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..access import staff_required


@staff_required()
def queue_view(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/layout.html", {"section": "tickets"})


@staff_required()
def ticket_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return render(request, "staff/layout.html", {"section": "tickets"})


@staff_required()
def attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    return render(request, "staff/layout.html", {"section": "tickets"})
