from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from abonent.core.http import json_error


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/v1/ answer in the API's own error shape, DEBUG or not."""
    return json_error(404, "not_found", _("Not found."))
