"""The HTTP plumbing shared by the real gateways: timeouts, a capped retry on network
errors and 5xx, and no secret ever in a log line.

Only a request that surely never reached the gateway (the connection could not be made)
or that it refused with a 5xx is sent again at once. A request that was sent but not
answered in time (a read timeout, a dropped connection) may have been taken: sending it
again at once would send the SMS twice, so it fails as a retryable error and the
delivery job decides when to try again."""

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
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            last = exc  # never reached the gateway: safe to send again
            logger.warning(
                "%s: network error (attempt %d): %s", gateway, attempt + 1, type(exc).__name__
            )
        except httpx.HTTPError as exc:  # sent, but no answer: the gateway may have taken it
            logger.warning(
                "%s: no answer (attempt %d): %s", gateway, attempt + 1, type(exc).__name__
            )
            code = "timeout" if isinstance(exc, httpx.TimeoutException) else "no_answer"
            raise GatewayError(code, type(exc).__name__, retryable=True) from exc
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
