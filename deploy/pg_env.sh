# shellcheck shell=bash
# Sourced by scripts/backup.sh and scripts/restore.sh: DATABASE_URL -> libpq's PG* variables.
# pg_dump and friends take a URI too, but then the password shows in `ps`; in the
# environment it does not. Python parses (percent-encoded passwords, IPv6 hosts, query
# options such as sslmode).
pg_env_from_url() {
    local python="${ABONENT_PYTHON:-python3}" exports
    exports="$("$python" - "$1" <<'PY'
import shlex
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

url = urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql", "pgsql"):
    sys.exit(f"DATABASE_URL is not PostgreSQL ({url.scheme or 'no scheme'}://)")
found = {
    "PGHOST": unquote(url.hostname or ""),
    "PGPORT": str(url.port or ""),
    "PGUSER": unquote(url.username or ""),
    "PGPASSWORD": unquote(url.password or ""),
    "PGDATABASE": unquote(url.path.lstrip("/")),
}
libpq = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "connect_timeout": "PGCONNECT_TIMEOUT"}
for key, value in parse_qsl(url.query):
    if key in libpq:
        found[libpq[key]] = value
if not found["PGDATABASE"]:
    sys.exit("DATABASE_URL names no database")
for name, value in found.items():
    if value:
        print(f"export {name}={shlex.quote(value)}")
    else:
        print(f"unset {name}")
PY
)" || return 1
    eval "$exports"
}
