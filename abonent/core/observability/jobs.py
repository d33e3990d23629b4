"""Background jobs log with the job's id where a request would log its request id."""

from __future__ import annotations

from typing import Any

from . import requestid

_tokens: dict[str, Any] = {}


def connect() -> None:
    from huey.contrib.djhuey import HUEY

    @HUEY.pre_execute()
    def _stamp(task: Any) -> None:
        _tokens[task.id] = requestid.current.set(f"job-{task.name}-{task.id}")

    @HUEY.post_execute()
    def _unstamp(task: Any, task_value: Any, exc: BaseException | None) -> None:
        token = _tokens.pop(task.id, None)
        if token is not None:
            requestid.current.reset(token)
