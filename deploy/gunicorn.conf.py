"""gunicorn for abonent: `gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`.

Every value can be overridden from the environment (GUNICORN_*), e.g. in
/etc/abonent/abonent.env. `systemctl reload abonent-web` (SIGHUP) re-reads this file,
starts new workers on the new code and lets the old ones finish their requests.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prometheus_dir  # deploy/prometheus_dir.py, beside this file


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (cgroups, taskset)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001").split(",")
# gthread, not sync: FreeRADIUS's rlm_rest keeps idle keep-alive connections open, and a
# sync worker would sit on one (docs/decisions/0009-freeradius-rest.md). Each thread holds
# one database connection: servers × workers × threads must fit PostgreSQL's
# max_connections together with the worker and FreeRADIUS (docs/deploy.md, "Scale-out").
# One process per CPU plus one does the Python work; the threads cover waits on the
# database and the network.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, _cpus() + 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# The worker heartbeat; a slow report runs in a thread and does not trip it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))  # > nginx's upstream keepalive_timeout
# A worker is replaced after this many requests (slow leaks never grow without bound).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Not preloaded: on SIGHUP the new workers import the new code (zero-downtime upgrades).
preload_app = False
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# X-Forwarded-Proto is believed only from these (nginx on this host by default).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "abonent-web"

accesslog = "-"  # stdout: the journal (systemd) or `docker logs`
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


class JsonAccessLogger(Logger):
    """One JSON object per request on stdout, properly escaped (a user agent with a quote
    cannot break the line), with the request id nginx sent so it joins the app's logs."""

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
            # The id the app answered with (abonent.core.observability.requestid), which
            # is nginx's when it sent one.
            "request_id": atoms.get("{x-request-id}o") or environ.get("HTTP_X_REQUEST_ID", ""),
            "client": environ.get("HTTP_X_REAL_IP") or atoms["h"],
            "method": atoms["m"],
            "path": environ.get("PATH_INFO") or getattr(req, "path", ""),
            # no query string: staff search puts phones and passport numbers there
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "referer": atoms["f"],
            "user_agent": atoms["a"],
        }
        try:
            self.access_log.info(json.dumps(line, ensure_ascii=False, default=str))
        except Exception:
            self.error("Failed to log the request %s", atoms["U"])


logger_class = JsonAccessLogger


def on_starting(server: Any) -> None:
    # PROMETHEUS_MULTIPROC_DIR is shared with the huey worker on this host: remove what
    # processes that no longer run left there, keep what running ones are writing.
    removed = prometheus_dir.prepare()
    if removed:
        server.log.info("Removed %d stale Prometheus files", removed)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
