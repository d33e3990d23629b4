"""Import of subscribers from another billing system (`subscribers.importing`): upload
a CSV, see every error by line, or — after a clean check — load it with one button.

Between the check and the load the file waits in PRIVATE_MEDIA_ROOT/imports (outside the
web root, with the ticket attachments) under a random name; only the session that
uploaded it knows the name, together with the file's SHA-256, so nobody else can load
it and it cannot change in between. The file goes at once when it is loaded or
discarded, and any left over is removed an hour later. Keeping it saves uploading
20 MB twice and makes sure the file loaded is the file checked (the load checks it
again, under the contract number counter's lock)."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from abonent.core.context import Actor
from abonent.core.errors import Forbidden
from abonent.subscribers import importing

from ..access import staff_required

MAX_UPLOAD = 20 * 1024 * 1024
SHOWN_ERRORS = 200
PENDING_TTL = 3600  # seconds a checked file waits for its load
SESSION_KEY = "subscriber_import"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Windows-1251, “;” or “,” between fields, up to 20 MB."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                _("The file is larger than %(size)s."), params={"size": filesizeformat(MAX_UPLOAD)}
            )
        return upload


def _folder() -> Path:
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _sweep() -> None:
    """Checked files nobody loaded: gone after PENDING_TTL."""
    limit = time.time() - PENDING_TTL
    for path in _folder().glob("*.csv"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:  # another worker swept it first
            pass


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(SESSION_KEY)
    if not isinstance(pending, dict) or not TOKEN_RE.match(str(pending.get("token", ""))):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_TTL:
        _forget(request)
        return None
    return pending


def _path(pending: dict[str, Any]) -> Path:
    return _folder() / f"{pending['token']}.csv"


def _forget(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if isinstance(pending, dict) and TOKEN_RE.match(str(pending.get("token", ""))):
        _path(pending).unlink(missing_ok=True)


def _keep(request: HttpRequest, data: bytes, name: str, report: importing.Report) -> None:
    _forget(request)
    token = secrets.token_urlsafe(24)
    path = _folder() / f"{token}.csv"
    with path.open("xb") as out:
        path.chmod(0o600)
        out.write(data)
    request.session[SESSION_KEY] = {
        "token": token,
        "name": name[:100],
        "sha256": report.sha256,
        "rows": len(report.rows),
        "at": time.time(),
    }


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "section": "import",
        "header": importing.HEADER,
        "columns": importing.COLUMNS,
        "statuses": importing.STATUSES,
        "shown_errors": SHOWN_ERRORS,
        **extra,
    }


def _with_report(report: importing.Report, file_name: str) -> dict[str, Any]:
    return {"report": report, "errors": report.errors[:SHOWN_ERRORS], "file_name": file_name}


@staff_required("admin")
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    context = _context()
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "load":
        return _load(request)
    if action == "discard":
        _forget(request)
        return redirect("staff:import_subscribers")
    if action == "check":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            report = importing.check(data)
            context.update(_with_report(report, upload.name))
            if report.ok:
                _sweep()
                _keep(request, data, upload.name, report)
            else:
                _forget(request)
    else:
        form = UploadForm()
    context["form"] = form
    context["pending"] = _pending(request)
    return render(request, "staff/import.html", context)


def _load(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None or not secrets.compare_digest(
        str(pending["token"]), request.POST.get("token", "")
    ):
        messages.error(request, gettext("Nothing to load: check the file first."))
        return redirect("staff:import_subscribers")
    path = _path(pending)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    if not data or hashlib.sha256(data).hexdigest() != pending["sha256"]:
        _forget(request)
        messages.error(request, gettext("The checked file is gone: upload it again."))
        return redirect("staff:import_subscribers")
    try:
        result = importing.load(data, Actor.from_request(request, "admin"), source=pending["name"])
    except Forbidden:
        raise PermissionDenied from None
    _forget(request)
    if not result.loaded:  # something changed since the check: the new report
        context = _context(form=UploadForm(), **_with_report(result.report, pending["name"]))
        return render(request, "staff/import.html", context)
    messages.success(
        request,
        gettext(
            "Loaded %(count)s contracts (batch %(batch)s); new contract numbers start after %(number)s."
        )
        % {"count": result.created, "batch": result.batch, "number": result.highest_number},
    )
    messages.info(request, str(importing.PASSWORD_NOTE))
    return redirect("staff:import_subscribers")
