#!/usr/bin/env bash
# manage.py as the service runs it: as the abonent user, with /etc/abonent/abonent.env.
#
#   /opt/abonent/deploy/manage.sh migrate
#   /opt/abonent/deploy/manage.sh createsuperuser
#
# ABONENT_ENV_FILE names another environment file (a second instance, a restore drill).
set -euo pipefail
env_file="${ABONENT_ENV_FILE:-/etc/abonent/abonent.env}"
app_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "$(id -u)" -eq 0 ]]; then
    # Never as root: files it writes (attachments, the queue) must belong to the service.
    exec runuser -u abonent -- env ABONENT_ENV_FILE="$env_file" "${BASH_SOURCE[0]}" "$@"
fi
set -a
# shellcheck source=/dev/null
source "$env_file"
set +a
cd "$app_dir"
exec "$app_dir/.venv/bin/python" manage.py "$@"
