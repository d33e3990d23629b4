#!/usr/bin/env bash
# Restore an abonent backup (scripts/backup.sh) into a NEW database and prove it sound.
#
#   DATABASE_URL=postgres://abonent:...@host/abonent_restored \
#   PRIVATE_MEDIA_ROOT=/opt/abonent/var/private \
#       scripts/restore.sh /var/backups/abonent/abonent-20261127T023000Z.dump
#
# 1. checks the set against its .sha256 (when there is one);
# 2. creates the database DATABASE_URL names, refusing one that already exists: a
#    restore never overwrites data (drop or rename the old one yourself, deliberately);
# 3. pg_restore --no-owner --exit-on-error --single-transaction: all or nothing, objects
#    owned by DATABASE_URL's user;
# 4. unpacks the attachments (<set>.private.tar.gz) into PRIVATE_MEDIA_ROOT, which must
#    be empty or absent;
# 5. `manage.py check_balances` on the restored database (every cached balance equals
#    its ledger sum) and `migrate --check` (the code and the schema agree; if the code is
#    newer than the backup, run `manage.py migrate` next).
#
# Then point the application at it (DATABASE_URL in /etc/abonent/abonent.env) and
# restart. docs/deploy.md, "Backups".
set -euo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app_dir="$(dirname "$here")"
python="${ABONENT_PYTHON:-$app_dir/.venv/bin/python}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"

fail() { echo "restore: $*" >&2; exit 1; }
dump="${1:-}"
[[ -n "$dump" ]] || fail "usage: scripts/restore.sh BACKUP.dump [ATTACHMENTS.tar.gz]"
[[ -f "$dump" ]] || fail "no such file: $dump"
set_base="${dump%.dump}"
media_tar="${2:-$set_base.private.tar.gz}"
[[ -n "${DATABASE_URL:-}" ]] || fail "DATABASE_URL (the database to create) is not set"
[[ -x "$python" ]] || python="python3"

# shellcheck source=deploy/pg_env.sh
source "$app_dir/deploy/pg_env.sh"
pg_env_from_url "$DATABASE_URL" || fail "cannot read DATABASE_URL"
target="$PGDATABASE"

if [[ -f "$set_base.sha256" ]]; then
    echo "restore: checking $set_base.sha256"
    (cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$set_base").sha256") \
        || fail "the backup does not match its checksums"
fi
pg_restore --list "$dump" >/dev/null || fail "$dump is not a pg_dump custom-format archive"

# Connect to the maintenance database to look and to create.
exists="$(echo "SELECT 1 FROM pg_database WHERE datname = :'name'" \
    | PGDATABASE=postgres psql --no-password --no-psqlrc --tuples-only --no-align \
        --set=ON_ERROR_STOP=1 --set=name="$target" 2>&1)" \
    || fail "cannot reach PostgreSQL: $exists"
[[ -z "$exists" ]] || fail "database $target already exists; restore into a new one"

echo "restore: creating database $target"
createdb --no-password --maintenance-db=postgres --encoding=UTF8 --template=template0 "$target"
echo "restore: loading $dump"
pg_restore --no-password --dbname="$target" --no-owner --no-privileges \
    --exit-on-error --single-transaction "$dump" \
    || fail "pg_restore failed; the database $target is empty (drop it and try again)"

if [[ -f "$media_tar" ]]; then
    media="${PRIVATE_MEDIA_ROOT:-$app_dir/var/private}"
    if [[ -d "$media" ]] && [[ -n "$(ls -A "$media")" ]]; then
        fail "$media is not empty; set PRIVATE_MEDIA_ROOT to an empty directory (the database is restored)"
    fi
    echo "restore: attachments -> $media"
    mkdir -p "$media"
    tar --extract --gzip --file="$media_tar" --directory="$media" --no-same-owner
else
    echo "restore: no attachments archive ($media_tar); database only"
fi

echo "restore: verifying"
cd "$app_dir"
"$python" manage.py check_balances
if ! "$python" manage.py migrate --check >/dev/null; then
    echo "restore: the code has migrations this backup does not: run \`manage.py migrate\`"
fi
echo "restore: done: $target"
