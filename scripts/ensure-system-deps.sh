#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (browser, fonts, FreeRADIUS,
# nginx's and systemd's config checks, pg_dump, Redis) when they are missing. Safe to run repeatedly: does nothing once they are there.
set -euo pipefail

# package -> a file that proves it is installed
declare -A wanted=(
  [chromium]=/usr/bin/chromium
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  [gettext]=/usr/bin/msgfmt
  [freeradius]=/usr/sbin/freeradius
  [freeradius-rest]=/usr/lib/freeradius/rlm_rest.so
  [freeradius-utils]=/usr/bin/radclient
  [freeradius-postgresql]=/usr/lib/freeradius/rlm_sql_postgresql.so
  [nginx]=/usr/sbin/nginx                  # `nginx -t` on deploy/nginx/abonent.conf
  [systemd]=/usr/bin/systemd-analyze       # `systemd-analyze verify` on deploy/*.service
  [postgresql-client]=/usr/bin/pg_dump     # scripts/backup.sh and restore.sh
  [redis-server]=/usr/bin/redis-server     # a private Redis the fault tests stop
)

missing=()
for pkg in "${!wanted[@]}"; do
  [ -e "${wanted[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages for the tests: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
