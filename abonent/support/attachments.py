"""What may be attached to a ticket: photos and PDFs of limited size, recognised by
their content (not by what the browser claims), under a plain file name. A name with a
path in it is refused, not quietly trimmed: nothing the subscriber typed becomes a path."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from abonent.core.errors import ValidationFailed

from .models import Attachment
from .uploads import TRIMMED

# magic bytes → (content type, allowed extensions)
SIGNATURES: list[tuple[bytes, int, str, tuple[str, ...]]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg", ("jpg", "jpeg")),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ("png",)),
    (b"WEBP", 8, "image/webp", ("webp",)),
    (b"%PDF-", 0, "application/pdf", ("pdf",)),
]
MAX_NAME = 100
# Markup a browser or a server could run, anywhere in the file: a polyglot keeps a real
# image or PDF signature in front and hides a page, an SVG or PHP behind it.
MARKUP = re.compile(
    rb"<(?:script|html|body|svg|iframe|object|embed|frameset|!doctype\s+html)[\s>/]|<\?php",
    re.IGNORECASE,
)
CHUNK = 64 * 1024
# An attachment opened directly is a document of its own: no scripts, no plugins, no
# forms, no framing, whatever the browser makes of it.
SANDBOX_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    size: int
    file: IO[bytes]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(fields={"attachments": [message]})


def clean_name(raw: str) -> str:
    trimmed = (raw or "").startswith(TRIMMED)  # the parser cut a path or odd characters off
    name = unicodedata.normalize("NFC", (raw or "").lstrip(TRIMMED)).strip()
    if (
        trimmed
        or not name
        or len(name) > MAX_NAME
        or any(c in name for c in "/\\:")
        or ".." in name
        or name.startswith(".")
        or any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name)
    ):
        raise _refuse(
            _(
                "“%(name)s”: use a simple file name (letters, digits, dots), up to %(max)s characters."
            )
            % {"name": name[:40], "max": MAX_NAME}
        )
    return name


def sniff(head: bytes) -> tuple[str, tuple[str, ...]] | None:
    for magic, offset, content_type, extensions in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type, extensions
    return None


def has_markup(upload: IO[bytes]) -> bool:
    """Scanned in chunks that overlap, so a tag split across two is still found."""
    upload.seek(0)
    tail = b""
    while chunk := upload.read(CHUNK):
        if MARKUP.search(tail + chunk):
            return True
        tail = chunk[-32:]
    return False


def check(files: list) -> list[Upload]:
    """Django UploadedFiles (or anything with .name, .size, .read/.seek) → checked
    uploads. Raises ValidationFailed with one clear message for the first problem."""
    if len(files) > settings.ATTACHMENTS_PER_MESSAGE:
        raise _refuse(
            _("Attach at most %(count)s files to one message.")
            % {"count": settings.ATTACHMENTS_PER_MESSAGE}
        )
    checked = []
    for upload in files:
        name = clean_name(getattr(upload, "name", "") or "")
        size = int(getattr(upload, "size", 0) or 0)
        if size > settings.ATTACHMENT_MAX_BYTES:
            raise _refuse(
                _("“%(name)s” is too large: at most %(max)s per file.")
                % {"name": name, "max": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
            )
        if size == 0:
            raise _refuse(_("“%(name)s” is empty.") % {"name": name})
        upload.seek(0)
        kind = sniff(upload.read(16))
        markup = has_markup(upload)
        upload.seek(0)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind is None or extension not in kind[1] or markup:
            raise _refuse(
                _("“%(name)s”: only photos (JPEG, PNG, WebP) and PDF documents can be attached.")
                % {"name": name}
            )
        checked.append(Upload(name=name, content_type=kind[0], size=size, file=upload))
    return checked


def response_for(attachment: Attachment) -> FileResponse:
    """The file under its shown name; images inline, PDFs as downloads; never sniffed
    into something else by the browser, and sandboxed if opened on its own."""
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not attachment.is_image,
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = SANDBOX_POLICY  # the site's policy is not added
    return response
