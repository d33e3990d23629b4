from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..access import staff_required


@staff_required()
def dashboard_view(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/layout.html", {"section": "quality"})
