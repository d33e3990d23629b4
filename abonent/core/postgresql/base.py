"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS a reused connection is checked at the start of every request;
Django does it with `SELECT 1` — a round trip to the server on every page, a tenth of
a signed-in request under load. A server that restarts, times a session out or is told
to terminate it sends its goodbye (a FATAL message) and closes the socket, so an idle
connection whose socket has become readable has been ended; one whose socket is quiet
is as usable as `SELECT 1` would have said. Over TLS the socket may carry records of
the TLS layer itself, so there Django's own check is kept. Decision 0016."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None:
            return False
        if connection.closed or connection.broken:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.ssl_in_use or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable
