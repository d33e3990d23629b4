"""The API's error body (api-v1.md), shared by the API and the site-wide error views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import JsonResponse


def json_error(
    status: int,
    code: str,
    message: Any,
    fields: Mapping[str, Sequence[Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = {name: [str(m) for m in msgs] for name, msgs in fields.items()}
    response = JsonResponse(
        {"error": body}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response
