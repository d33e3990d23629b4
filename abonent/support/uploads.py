"""Django's multipart parser quietly trims an uploaded file's name to its last path
part ("../../etc/passwd.png" arrives as "passwd.png") and drops a file called "..".
Support refuses such names with a message instead of accepting a file under a name the
sender did not give, so the parser marks a name it had to change; `attachments`
refuses marked names. Installed once at start-up (SupportConfig.ready): the request
class builds its parser from this module-level name."""

from __future__ import annotations

import html

import django.http.request
from django.http.multipartparser import MultiPartParser

# A character no real file name contains; it survives UploadedFile's basename().
TRIMMED = "\x1f"


class NameCheckingParser(MultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        trimmed = super().sanitize_file_name(file_name)
        raw = html.unescape(file_name)
        if not raw.strip():
            return trimmed  # no file chosen: skipped, as before
        if trimmed != raw:
            return TRIMMED + (trimmed or raw.strip("/\\. ") or "..")
        return trimmed


def install() -> None:
    setattr(django.http.request, "MultiPartParser", NameCheckingParser)  # noqa: B010
