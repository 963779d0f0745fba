#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 with a `test` database (trust auth for local use).
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1 \
    || psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v pg_ctlcluster >/dev/null; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql postgresql-contrib >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
if [ -z "$version" ]; then
  echo "no PostgreSQL cluster found" >&2; exit 1
fi
conf=/etc/postgresql/$version/main
# Trust on loopback: a throwaway test server, never reachable from outside.
$SUDO sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+(all|postgres)\s+)\S+/\1trust/' "$conf/pg_hba.conf"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main restart
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1 \
  || psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null
