from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router

from abonent.core.errors import ValidationFailed
from abonent.network import selectors
from abonent.subscribers.selectors import contract_for_user

from .schemas import SessionOut, UsageOut, one_of
from .security import me

router = Router(tags=["usage"])


@router.get("/traffic", response=list[UsageOut], url_name="traffic")
def traffic(
    request: HttpRequest,
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
    granularity: Annotated[str, one_of("day", "month")] = "day",
) -> list[UsageOut]:
    if granularity not in ("day", "month"):
        raise ValidationFailed(fields={"granularity": [_("Choose day or month.")]})
    rows = selectors.traffic(contract_for_user(me(request)), date_from, date_to, granularity)
    return [UsageOut(period=r.period, bytes_in=r.bytes_in, bytes_out=r.bytes_out) for r in rows]


@router.get("/sessions", response=list[SessionOut], url_name="sessions")
def sessions(
    request: HttpRequest,
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
) -> list[SessionOut]:
    return [
        SessionOut(
            started_at=s.started_at,
            ended_at=s.stopped_at,
            ip=s.framed_ip,
            bytes_in=s.bytes_in,
            bytes_out=s.bytes_out,
            terminate_cause=s.terminate_cause,
        )
        for s in selectors.sessions(contract_for_user(me(request)), date_from, date_to)
    ]
