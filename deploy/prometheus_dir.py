"""Prepare PROMETHEUS_MULTIPROC_DIR before a process that writes metrics starts.

prometheus_client's multiprocess mode keeps one file per process and metric type
(`counter_1234.db`); /metrics adds up every file in the directory. gunicorn and the huey
worker on one host share the directory, so a start must not wipe the files of the other,
still running, service: only files of processes that are gone are removed. The directory
lives on tmpfs (/run), so a reboot empties it anyway.

    python deploy/prometheus_dir.py          # ExecStartPre of both systemd units
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

PID = re.compile(r"_(\d+)\.db$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def prepare(directory: str | None = None) -> int:
    """Create the directory and remove the files of processes that are not running;
    returns how many were removed. Nothing to do without PROMETHEUS_MULTIPROC_DIR."""
    directory = directory or os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        return 0
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    for file in path.glob("*.db"):
        match = PID.search(file.name)
        if match is None or not _running(int(match.group(1))):
            file.unlink(missing_ok=True)
            removed += 1
    return removed


if __name__ == "__main__":
    count = prepare(sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"prometheus multiprocess directory ready ({count} stale file(s) removed)")
