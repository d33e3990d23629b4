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


def _errors(path: str, op: dict[str, Any]) -> dict[str, str]:
    codes = {
        "400": "Invalid input (`validation_error`, per-field messages in `fields`)",
        "409": "Refused by a business rule (`conflict`, `policy_violation`, ...)",
        "429": "Too many attempts (`throttled`; see Retry-After)",
    }
    if op.get("security"):
        codes["401"] = "Missing, expired or revoked token (`unauthenticated`)"
        codes["403"] = "Not allowed now (`forbidden`, `password_change_required`, ...)"
    if "{" in path:
        codes["404"] = "Not found, or not yours (`not_found`)"
    return codes


class DocumentedAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for op in operations.values():
                responses = op.setdefault("responses", {})
                for code, text in _errors(path, op).items():
                    responses.setdefault(code, {"description": text, **_REF})
        return schema
