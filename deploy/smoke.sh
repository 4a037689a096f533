#!/usr/bin/env bash
# Production smoke test (CI: .ci/run), without Docker: the processes docker-compose.yml starts —
# gunicorn with DEBUG off behind the proxy headers, a Celery worker, beat, the outbox relay —
# against this machine's PostgreSQL and a Redis of its own on another port. Checks: CSS and
# Swagger assets 200, sign-in, a page, /readyz ready, a quarterly report made by the worker;
# then Redis stopped: pages still 200, a report queued meanwhile is made once Redis is back.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WEB_PORT=${SMOKE_WEB_PORT:-8790}
REDIS_PORT=${SMOKE_REDIS_PORT:-6390}
DB=${SMOKE_DB:-trovon_smoke}
PGURL=${SMOKE_PG:-postgres://postgres@127.0.0.1:5432}
work=$(mktemp -d /tmp/trovon-smoke.XXXXXX)
pids=()
redis_pid=""
started=$(date +%s)

cleanup() {
  status=$?
  for pid in "${pids[@]}" ${redis_pid}; do kill "${pid}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${status}" -ne 0 ]; then
    echo "== smoke test FAILED; last lines of each log:"
    for log in "${work}"/*.log; do echo "--- ${log}"; tail -n 25 "${log}"; done
  fi
  psql "${PGURL}/postgres" -q -c "DROP DATABASE IF EXISTS ${DB}" >/dev/null 2>&1 || true
  rm -rf "${work}"
  exit "${status}"
}
trap cleanup EXIT

fail() { echo "smoke: $*" >&2; exit 1; }
step() { echo "== smoke ($(($(date +%s) - started)) s): $*"; }

start_redis() {
  redis-server --port "${REDIS_PORT}" --bind 127.0.0.1 --save "" --appendonly no \
    >"${work}/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 50); do
    redis-cli -p "${REDIS_PORT}" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "Redis did not start on port ${REDIS_PORT}"
}

psql "${PGURL}/postgres" -q -c "DROP DATABASE IF EXISTS ${DB}" -c "CREATE DATABASE ${DB}" >/dev/null
start_redis

export DEBUG=0
export SECRET_KEY="smoke-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
export DATABASE_URL="${PGURL}/${DB}"
export REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
export CELERY_BROKER_URL="${REDIS_URL}" CELERY_RESULT_BACKEND="${REDIS_URL}"
export ALLOWED_HOSTS="localhost,127.0.0.1"
export TRUSTED_PROXIES="127.0.0.1/32"
export MEDIA_ROOT="${work}/media" STATIC_ROOT="${work}/static" BACKUP_DIR="${work}/backups"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH="${work}/mail"
export LEDGER_HEAD_DIR="${work}/heads" LOG_FORMAT=json LOG_LEVEL=WARNING
export METRICS_TOKEN="smoke-metrics"
unset DATABASE_REPLICA_URL TROVON_DEMO
LEDGER_SIGNING_KEY=$(DEBUG=1 "${PY}" -c 'from accounting.signing import signing_key_generate as g; print(g())')
export LEDGER_SIGNING_KEY

step "migrate, collectstatic, a fund officer"
"${PY}" manage.py migrate --noinput -v0
"${PY}" manage.py collectstatic --noinput -v0
"${PY}" manage.py shell -v0 -c '
from django.contrib.auth import get_user_model
from fund.models import Fund, OfficerProfile, Role
# Password sign-in only: the second factor has its own tests (tests/security).
fund = Fund.objects.create(
    code="SMOKE", name="Quỹ thử", federation_name="LĐLĐ thử", two_factor_required=False
)
user = get_user_model().objects.create_user("smoke_quy", password="Smoke-pass-2027!")
OfficerProfile.objects.create(user=user, fund=fund, role=Role.FUND_OFFICER)
'

step "start gunicorn, worker, beat, outbox relay"
GUNICORN_BIND="127.0.0.1:${WEB_PORT}" WEB_CONCURRENCY=2 FORWARDED_ALLOW_IPS=127.0.0.1 \
  PROMETHEUS_MULTIPROC_DIR="${work}/prom" \
  bash -c 'mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && exec '"${PY}"' -m gunicorn config.wsgi:application --config deploy/gunicorn.conf.py' \
  >"${work}/web.log" 2>&1 &
pids+=($!)
"${PY}" -m celery -A config worker --loglevel INFO --concurrency 1 --without-gossip \
  --without-mingle -Q celery,close_of_business,reminders,reports,ledger -n "smoke@%h" \
  >"${work}/worker.log" 2>&1 &
pids+=($!)
"${PY}" -m celery -A config beat --loglevel INFO --schedule "${work}/celerybeat-schedule" \
  >"${work}/beat.log" 2>&1 &
pids+=($!)
"${PY}" manage.py outbox_relay --loop --interval 1 --heartbeat "${work}/relay.alive" \
  >"${work}/relay.log" 2>&1 &
pids+=($!)

base="http://127.0.0.1:${WEB_PORT}"
jar="${work}/cookies"
# As Caddy forwards: HTTPS said by the trusted proxy, the public host name.
curl_app() { curl -sS -H "X-Forwarded-Proto: https" -H "Host: localhost" -b "${jar}" -c "${jar}" "$@"; }
status() { curl_app -o /dev/null -w '%{http_code}' "$@"; }

for _ in $(seq 1 100); do
  curl -s -o /dev/null "${base}/healthz" && break
  sleep 0.2
done
[ "$(curl -s "${base}/healthz")" = '{"status": "ok"}' ] || fail "/healthz does not answer"

step "plain HTTP without the proxy header is sent to HTTPS"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost" "${base}/accounts/login/")" = 301 ] \
  || fail "no HTTPS redirect"

step "sign-in page and its stylesheet (hashed name, compressed)"
login_page=$(curl_app "${base}/accounts/login/")
css=$(grep -o '/static/css/trovon\.[0-9a-f]*\.css' <<<"${login_page}" | head -n1)
[ -n "${css}" ] || fail "the sign-in page links no hashed trovon.css"
[ "$(status "${base}${css}")" = 200 ] || fail "${css} is not served"
[ "$(curl_app -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -D "${work}/css.h" "${base}${css}")" = 200 ]
grep -qi '^content-encoding: gzip' "${work}/css.h" || fail "${css} is not served compressed"

step "sign in"
token=$(awk '$6 == "csrftoken" {print $7}' "${jar}")
[ -n "${token}" ] || fail "no CSRF cookie"
code=$(status -X POST -H "Referer: https://localhost/accounts/login/" \
  --data-urlencode "csrfmiddlewaretoken=${token}" --data-urlencode "username=smoke_quy" \
  --data-urlencode "password=Smoke-pass-2027!" "${base}/accounts/login/")
[ "${code}" = 302 ] || fail "sign-in answered ${code}"
page=$(curl_app -L -o "${work}/home.html" -w '%{http_code} %{url_effective}' "${base}/")
[ "${page%% *}" = 200 ] || fail "the home page answered ${page}"
grep -q 'smoke_quy\|Quỹ thử' "${work}/home.html" || fail "the home page does not show the officer"

step "Swagger UI and its assets"
docs=$(curl_app "${base}/api/v1/docs/")
asset=$(grep -o '/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle[^"]*\.js' <<<"${docs}" | head -n1)
[ -n "${asset}" ] || fail "the API docs page links no Swagger UI bundle"
[ "$(status "${base}${asset}")" = 200 ] || fail "${asset} is not served"

step "/readyz and /metrics"
ready=$(curl -s "${base}/readyz")
grep -q '"status": "ok"' <<<"${ready}" || fail "/readyz: ${ready}"
curl -s -H "Authorization: Bearer smoke-metrics" "${base}/metrics" | grep -q '^trovon_http_requests_total' \
  || fail "/metrics has no request counts"

reports_made() {
  "${PY}" manage.py shell -v0 -c "
from reports.models import QuarterlyReport
print(QuarterlyReport.objects.filter(year=$1, quarter=$2).exclude(pdf_sha256='').count())"
}
wait_report() {
  for _ in $(seq 1 90); do
    [ "$(reports_made "$1" "$2")" -ge 1 ] && return 0
    sleep 1
  done
  fail "the worker made no report of Q$2/$1"
}

step "a quarterly report made by the worker"
"${PY}" manage.py quarterly_report --year 2026 --quarter 1 --queue >/dev/null
wait_report 2026 1

step "Redis stopped: pages still answer"
kill "${redis_pid}"
wait "${redis_pid}" 2>/dev/null || true
redis_pid=""
for path in / /loans/ /accounts/password/; do
  code=$(status -L "${base}${path}")
  [ "${code}" = 200 ] || fail "${path} answered ${code} with Redis down"
done
grep -q '"status": "degraded"' <<<"$(curl -s "${base}/readyz")" || fail "/readyz did not say degraded"
"${PY}" manage.py quarterly_report --year 2026 --quarter 2 --queue >/dev/null
pending=$("${PY}" manage.py shell -v0 -c "
from fund.outbox import outbox_pending_count; print(outbox_pending_count())")
[ "${pending}" -ge 1 ] || fail "the report queued while Redis was down is not pending in the outbox"

step "Redis back: the queued report is made"
start_redis
wait_report 2026 2

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  step "docker compose config"
  POSTGRES_PASSWORD=x SECRET_KEY=x docker compose config -q
fi
step "passed"
