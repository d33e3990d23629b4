"""The app's only way to the product: /api/v1 with a bearer token, refreshed (and
rotated) when it expires, dropped at logout. No business rule lives here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


class ApiError(Exception):
    """An error answer in the API's one shape: `code`, a translated `message`, fields."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "error")
        self.message = error.get("message", "")
        self.fields: dict[str, list[str]] = error.get("fields", {}) or {}
        super().__init__(f"{status} {self.code}: {self.message}")


@dataclass
class Session:
    access: str = ""
    refresh: str = ""
    password_change_required: bool = False


@dataclass
class ApiClient:
    base_url: str
    language: str = "ru"
    session: Session = field(default_factory=Session)
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            base_url=self.base_url.rstrip("/") + "/api/v1",
            headers={"Accept-Language": self.language},
            timeout=15,
            transport=self.transport,
        )

    # --- plumbing -----------------------------------------------------------------

    def _call(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.session.access:
            headers["Authorization"] = f"Bearer {self.session.access}"
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and retry and self.session.refresh:
            self.refresh()
            return self._call(method, path, retry=False, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiError(response.status_code, body)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    def _tokens(self, data: dict[str, Any]) -> None:
        self.session = Session(
            data["access_token"], data["refresh_token"], data["password_change_required"]
        )

    # --- access ---------------------------------------------------------------------

    def login(self, contract_number: str, password: str) -> bool:
        """True when signed in; False when an SMS code is needed (`verify_login`)."""
        response = self.http.post(
            "/auth/login",
            json={
                "contract_number": contract_number,
                "password": password,
                "device_name": "Android",
            },
        )
        if response.status_code == 202:
            self._pending = response.json()
            return False
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        self._tokens(response.json())
        return True

    def refresh(self) -> None:
        """Refresh tokens rotate: the old one is spent; a replayed one ends the session."""
        response = self.http.post("/auth/refresh", json={"refresh_token": self.session.refresh})
        if response.status_code >= 400:
            self.session = Session()
            raise ApiError(response.status_code, response.json())
        self._tokens(response.json())

    def change_password(self, old: str, new: str) -> None:
        self._call("POST", "/auth/password", json={"old_password": old, "new_password": new})
        self.session.password_change_required = False

    def logout(self) -> None:
        try:
            self._call("POST", "/auth/logout", retry=False)
        finally:
            self.session = Session()

    # --- the cabinet's sections ---------------------------------------------------------

    def account(self) -> dict[str, Any]:
        return self._call("GET", "/account")

    def tariffs(self) -> list[dict[str, Any]]:
        return self._call("GET", "/tariffs")

    def preview_tariff(self, tariff_id: int) -> dict[str, Any]:
        return self._call("POST", "/tariff-changes/preview", json={"tariff_id": tariff_id})

    def change_tariff(self, tariff_id: int) -> dict[str, Any]:
        return self._call(
            "POST",
            "/tariff-changes",
            json={"tariff_id": tariff_id},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def tickets(self) -> list[dict[str, Any]]:
        return self._call("GET", "/tickets")

    def open_ticket(self, category: str, subject: str, text: str) -> dict[str, Any]:
        return self._call(
            "POST",
            "/tickets",
            json={"category": category, "subject": subject, "text": text},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def traffic(self) -> list[dict[str, Any]]:
        return self._call("GET", "/traffic")

    def addons(self) -> list[dict[str, Any]]:
        return self._call("GET", "/addons")

    def set_addon(self, addon_id: int, connect: bool) -> Any:
        return self._call("POST" if connect else "DELETE", f"/addons/{addon_id}")

    def preview_suspension(self, start: str, end: str) -> dict[str, Any]:
        return self._call(
            "POST", "/suspensions/preview", json={"start_date": start, "end_date": end}
        )

    def suspend(self, start: str, end: str) -> dict[str, Any]:
        return self._call(
            "POST",
            "/suspensions",
            json={"start_date": start, "end_date": end},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )

    def autopay(self) -> dict[str, Any]:
        return self._call("GET", "/autopay")

    def set_autopay(self, enabled: bool, threshold_days: int = 3) -> dict[str, Any]:
        return self._call(
            "PUT", "/autopay", json={"enabled": enabled, "threshold_days": threshold_days}
        )

    def profile(self) -> dict[str, Any]:
        return self._call("GET", "/profile")

    def set_email(self, email: str) -> dict[str, Any]:
        return self._call("PATCH", "/profile", json={"email": email})

    # --- "Forgot password?" (no session) ------------------------------------------------

    def recovery_start(self, phone: str) -> dict[str, Any]:
        return self._call("POST", "/auth/recovery/start", json={"phone": phone}, retry=False)

    def recovery_verify(self, request_id: str, code: str) -> dict[str, Any]:
        return self._call(
            "POST", "/auth/recovery/verify", json={"request_id": request_id, "code": code}
        )

    def recovery_complete(self, reset_token: str, new_password: str, contract: str = "") -> None:
        data = self._call(
            "POST",
            "/auth/recovery/complete",
            json={
                "reset_token": reset_token,
                "new_password": new_password,
                "contract_number": contract,
                "device_name": "Android",
            },
        )
        self._tokens(data)

    def pay(self, rubles: str) -> dict[str, Any]:
        """Starts a payment; the app opens `confirmation_url` (the provider's page)."""
        kopecks = round(float(rubles.replace(",", ".").replace(" ", "")) * 100)
        return self._call(
            "POST",
            "/payments",
            json={"amount": kopecks},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
