#!/usr/bin/env bash
# Back up abonent: the database (pg_dump custom format) and the ticket attachments
# (a tar of PRIVATE_MEDIA_ROOT), as one timestamped set in BACKUP_DIR, keeping the
# newest BACKUP_KEEP sets. docs/deploy.md, "Backups"; restore with scripts/restore.sh.
#
#   scripts/backup.sh [BACKUP_DIR]
#
# Environment (the systemd unit reads /etc/abonent/abonent.env):
#   DATABASE_URL        postgres://user:password@host:port/name (required)
#   PRIVATE_MEDIA_ROOT  attachments (default: var/private beside this checkout)
#   BACKUP_DIR          where the sets go (default: /var/backups/abonent)
#   BACKUP_KEEP         how many sets to keep (default: 14)
#
# A set is abonent-<UTC time>.dump, abonent-<UTC time>.private.tar.gz and
# abonent-<UTC time>.sha256. Files are written under a temporary name and renamed when
# complete, so a set that is there is whole. Copy the sets off the machine (rsync,
# rclone, borg): a backup on the database server's disk dies with that disk.
set -euo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app_dir="$(dirname "$here")"
backup_dir="${1:-${BACKUP_DIR:-/var/backups/abonent}}"
keep="${BACKUP_KEEP:-14}"
media="${PRIVATE_MEDIA_ROOT:-$app_dir/var/private}"

fail() { echo "backup: $*" >&2; exit 1; }
[[ -n "${DATABASE_URL:-}" ]] || fail "DATABASE_URL is not set"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || fail "BACKUP_KEEP must be a positive number, not '$keep'"

# libpq settings from DATABASE_URL, so that the password is never on a command line
# (where every user of the machine could read it in `ps`).
# shellcheck source=deploy/pg_env.sh
source "$app_dir/deploy/pg_env.sh"
pg_env_from_url "$DATABASE_URL" || fail "cannot read DATABASE_URL"

mkdir -p "$backup_dir"
exec 9>"$backup_dir/.lock"
flock -n 9 || fail "another backup is running in $backup_dir"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
base="$backup_dir/abonent-$stamp"
trap 'rm -f "$base".*.partial' EXIT

echo "backup: database $PGDATABASE on ${PGHOST:-local socket} -> $base.dump"
pg_dump --format=custom --compress=6 --no-password --file="$base.dump.partial"
# A dump that pg_restore cannot read is not a backup.
pg_restore --list "$base.dump.partial" >/dev/null
mv "$base.dump.partial" "$base.dump"

if [[ -d "$media" ]]; then
    echo "backup: attachments $media -> $base.private.tar.gz"
    tar --create --gzip --file="$base.private.tar.gz.partial" --directory="$media" .
else
    echo "backup: no attachments directory $media; an empty archive stands for it"
    tar --create --gzip --file="$base.private.tar.gz.partial" --files-from=/dev/null
fi
mv "$base.private.tar.gz.partial" "$base.private.tar.gz"

(cd "$backup_dir" && sha256sum "abonent-$stamp.dump" "abonent-$stamp.private.tar.gz") \
    >"$base.sha256.partial"
mv "$base.sha256.partial" "$base.sha256"

# Retention: the newest $keep complete sets stay (names sort by time).
mapfile -t sets < <(find "$backup_dir" -maxdepth 1 -name 'abonent-*.dump' -printf '%f\n' | sort)
excess=$(( ${#sets[@]} - keep ))
for (( i = 0; i < excess; i++ )); do
    old="$backup_dir/${sets[$i]%.dump}"
    echo "backup: removing the old set ${old##*/}"
    rm -f "$old.dump" "$old.private.tar.gz" "$old.sha256"
done

echo "backup: done: $base.dump ($(du -h "$base.dump" | cut -f1)), $base.private.tar.gz"
