"""The OpenAPI document lists, for every operation, the errors it can answer with, in
the one error shape of api-v1.md (ninja documents only the success responses)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string", "description": "Translated (Accept-Language)"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

# Errors only some operations answer with, beyond the ones every operation of its kind
# lists (_errors below): the operation names them with `openapi_extra=also(...)`.
_ALSO = {
    401: "Wrong contract number or password, or a token that is no longer valid "
    "(`invalid_credentials`)",
    403: "Not allowed (`cabinet_disabled`: the subscriber switched off cabinet access)",
    404: "There is nothing of this kind to act on (`not_found`)",
    503: "The payment provider does not answer (`provider_unavailable`); try again later",
}


def also(*codes: int) -> dict[str, Any]:
    """`openapi_extra` for an operation that may answer with these errors too."""
    return {"responses": {str(code): {"description": _ALSO[code], **_REF} for code in codes}}


def _errors(path: str, op: dict[str, Any]) -> dict[str, str]:
    codes = {
        "400": "Invalid input (`validation_error`, per-field messages in `fields`)",
        "409": "Refused by a business rule (`conflict`, `policy_violation`, ...)",
        "429": "Too many attempts (`throttled`; see Retry-After)",
    }
    if op.get("security"):
        codes["401"] = "Missing, expired or revoked token (`invalid_credentials`)"
        codes["403"] = "Not allowed now (`forbidden`, `password_change_required`, ...)"
    if "{" in path:
        codes["404"] = "Not found, or not yours (`not_found`)"
    return codes


def _form_parts_not_null(op: dict[str, Any]) -> None:
    """A multipart part is sent or left out, never null: `files: list[UploadedFile] | None`
    is documented as the list alone (clients then send the files as file parts)."""
    content = op.get("requestBody", {}).get("content", {})
    form = content.get("multipart/form-data", {}).get("schema", {})
    for name, prop in form.get("properties", {}).items():
        options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1 and len(prop["anyOf"]) == 2:
            del prop["anyOf"]
            form["properties"][name] = {**prop, **options[0]}


class DocumentedAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for op in operations.values():
                _form_parts_not_null(op)
                responses = op.setdefault("responses", {})
                for code, text in _errors(path, op).items():
                    responses.setdefault(code, {"description": text, **_REF})
        return schema
