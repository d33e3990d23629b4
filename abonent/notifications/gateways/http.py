"""The HTTP plumbing shared by the real gateways: timeouts, a capped retry on network
errors and 5xx, and no secret ever in a log line."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from . import GatewayError

logger = logging.getLogger("abonent.sms")


def request_json(
    method: str,
    url: str,
    *,
    params: dict[str, Any],
    timeout: float,
    retries: int,
    gateway: str,
) -> Any:
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            response = httpx.request(
                method,
                url,
                data=params if method == "POST" else None,
                params=params if method == "GET" else None,
                timeout=timeout,
            )
        except httpx.HTTPError as exc:  # timeouts, refused connections, resets
            last = exc
            logger.warning(
                "%s: network error (attempt %d): %s", gateway, attempt + 1, type(exc).__name__
            )
        else:
            if response.status_code >= 500:
                last = GatewayError(f"http_{response.status_code}", retryable=True)
                logger.warning(
                    "%s: HTTP %d (attempt %d)", gateway, response.status_code, attempt + 1
                )
            else:
                try:
                    return response.json()
                except ValueError as exc:
                    raise GatewayError("bad_response", "not JSON", retryable=True) from exc
        if attempt < retries:
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise GatewayError("unreachable", type(last).__name__ if last else "", retryable=True)
