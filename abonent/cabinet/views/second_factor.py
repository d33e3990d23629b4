"""The web side of the optional SMS second factor at login."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from abonent.accounts import second_factor
from abonent.accounts.models import User
from abonent.core.context import Actor
from abonent.core.errors import DomainError

from ..forms import CodeForm
from .util import apply_domain_error

PENDING = "abonent_2fa_pending"


def start(request: HttpRequest, user: User, target: str) -> HttpResponse:
    try:
        issued = second_factor.send_login_code(user, Actor.from_request(request))
    except DomainError as exc:
        request.session[PENDING] = {
            "user": user.pk,
            "request_id": "",
            "next": target,
            "error": str(exc.message),
        }
    else:
        request.session[PENDING] = {
            "user": user.pk,
            "request_id": issued.request_id,
            "next": target,
        }
    return redirect("cabinet:login_code")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    from .auth import sign_in

    pending = request.session.get(PENDING)
    if not pending:
        return redirect("cabinet:login")
    form = CodeForm(request.POST or None)
    if pending.get("error") and request.method == "GET":
        form.add_error(None, pending["error"])
    if request.method == "POST" and form.is_valid():
        try:
            user = second_factor.confirm_login_code(
                pending["request_id"], form.cleaned_data["code"], pending["user"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            del request.session[PENDING]
            return sign_in(request, user, pending.get("next", ""))
    return render(request, "cabinet/login_code.html", {"form": form})
