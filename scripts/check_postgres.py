"""Fail early, and helpfully, when the test PostgreSQL does not answer."""

import os
import sys

import dj_database_url
import psycopg

url = os.environ["DATABASE_URL"]
cfg = dj_database_url.parse(url)
if "postgresql" not in cfg["ENGINE"]:
    sys.exit(f"The tests run on PostgreSQL; DATABASE_URL is {url!r}.")

try:
    psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        connect_timeout=5,
    ).close()
except psycopg.OperationalError as exc:
    sys.exit(
        f"PostgreSQL at {cfg['HOST']}:{cfg['PORT']} does not answer: {exc}\n"
        "Start it with:  pg_ctlcluster --skip-systemctl-redirect "
        "$(ls /etc/postgresql) main start\n"
        "If it asks for a password, create a role:  runuser -u postgres -- "
        "psql -c \"CREATE ROLE abonent LOGIN SUPERUSER PASSWORD 'abonent'\"\n"
        "and set DATABASE_URL=postgres://abonent:abonent@127.0.0.1:5432/abonent"
    )
