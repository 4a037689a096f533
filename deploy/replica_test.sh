#!/usr/bin/env bash
# The read replica in CI: a throwaway PostgreSQL primary, a streaming replica made from it with
# pg_basebackup on another port, then deploy/replica_check.py against both. Runs as root (the
# clusters belong to the postgres OS user) or as postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$(pwd)/.venv/bin/python}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
PRIMARY_PORT=${REPLICA_TEST_PRIMARY_PORT:-5441}
REPLICA_PORT=${REPLICA_TEST_REPLICA_PORT:-5442}
work=$(mktemp -d /tmp/trovon-replica.XXXXXX)
chmod 755 "${work}"
as_pg() {
  if [ "$(id -un)" = postgres ]; then bash -c "$1"; else su postgres -s /bin/bash -c "$1"; fi
}
cleanup() {
  status=$?
  as_pg "${BIN}/pg_ctl -D ${work}/replica -m immediate stop" >/dev/null 2>&1 || true
  as_pg "${BIN}/pg_ctl -D ${work}/primary -m immediate stop" >/dev/null 2>&1 || true
  [ "${status}" -eq 0 ] || { tail -n 30 "${work}"/*.log 2>/dev/null || true; }
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT
chown postgres "${work}" 2>/dev/null || true

as_pg "${BIN}/initdb -D ${work}/primary -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >${work}/initdb.log"
cat >>"${work}/primary/postgresql.conf" <<CONF
port = ${PRIMARY_PORT}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${work}'
wal_level = replica
max_wal_senders = 4
fsync = off
CONF
echo "host replication all 127.0.0.1/32 trust" >>"${work}/primary/pg_hba.conf"
as_pg "${BIN}/pg_ctl -D ${work}/primary -l ${work}/primary.log -w start" >/dev/null
as_pg "${BIN}/pg_basebackup -h 127.0.0.1 -p ${PRIMARY_PORT} -U postgres -D ${work}/replica -R -X stream"
sed -i "s/^port = .*/port = ${REPLICA_PORT}/" "${work}/replica/postgresql.conf"
as_pg "${BIN}/pg_ctl -D ${work}/replica -l ${work}/replica.log -w start" >/dev/null
psql -h 127.0.0.1 -p "${PRIMARY_PORT}" -U postgres -q -c "CREATE DATABASE trovon"

echo "== read replica: primary :${PRIMARY_PORT}, streaming replica :${REPLICA_PORT}"
env -u TROVON_DEMO DEBUG=1 \
  DATABASE_URL="postgres://postgres@127.0.0.1:${PRIMARY_PORT}/trovon" \
  DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:${REPLICA_PORT}/trovon" \
  REDIS_URL= CELERY_BROKER_URL= LEDGER_HEAD_DIR="${work}/heads" \
  "${PY}" deploy/replica_check.py
