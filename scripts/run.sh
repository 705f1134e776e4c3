#!/usr/bin/env bash
# The run command: web (gunicorn + whitenoise), a Celery worker per queue and beat on the embedded defaults
# (SQLite + filesystem broker under ./data) unless DATABASE_URL / CELERY_BROKER_URL say otherwise.
# Ctrl-C stops them all. HARBOROPS_DEMO=1 also serves a demo fleet of simulated Harbors.
set -euo pipefail
cd "$(dirname "$0")/.."
# python-ldap (LDAP login) has no wheel: it builds against these headers.
scripts/ensure-debs.sh libldap2-dev libsasl2-dev
scripts/ensure-venv.sh requirements.txt
export HARBOROPS_DATA_DIR=${HARBOROPS_DATA_DIR:-$PWD/data}
mkdir -p "$HARBOROPS_DATA_DIR"
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$HARBOROPS_DATA_DIR/prometheus}
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
host=${HARBOROPS_HOST:-127.0.0.1}
port=${HARBOROPS_PORT:-8000}
export HARBOROPS_SITE_URL=${HARBOROPS_SITE_URL:-http://$host:$port}
py=.venv/bin/python
$py manage.py migrate --noinput -v0
$py manage.py ensure_admin
$py manage.py collectstatic --noinput -v0

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping harborops (web, workers, beat)..."
  kill "${pids[@]}" 2>/dev/null || true
  wait || true
  exit "${1:-0}"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT
# Small on one machine (issue 15, docs/benchmarks.md "Memory of the embedded run"): gunicorn loads the app once
# and forks its workers from it (HARBOROPS_WEB_PRELOAD); beat runs inside the periodic worker (-B: a fork of it
# that shares its imports, instead of a fourth copy of Django and every app); each periodic task runs in a
# fresh fork of that worker (--max-tasks-per-child 1), so what a sweep allocated never stays behind.
export HARBOROPS_WEB_PRELOAD=${HARBOROPS_WEB_PRELOAD:-1}
.venv/bin/gunicorn harborops.wsgi -c harborops/gunicorn_conf.py --bind "$host:$port" & pids+=($!)
# One worker per queue: long jobs (installs, GC, applies, backfills) never hold up the sweep or the reaper.
.venv/bin/celery -A harborops worker -Q periodic -n "periodic@%h" -B --max-tasks-per-child 1 \
  --concurrency "${HARBOROPS_PERIODIC_CONCURRENCY:-2}" -l "${HARBOROPS_LOG_LEVEL:-INFO}" & pids+=($!)
.venv/bin/celery -A harborops worker -Q jobs -n "jobs@%h" \
  --concurrency "${HARBOROPS_JOBS_CONCURRENCY:-2}" -l "${HARBOROPS_LOG_LEVEL:-INFO}" & pids+=($!)
if [ "${HARBOROPS_DEMO:-0}" = "1" ]; then
  # A dozen simulated Harbors, registered in this dashboard (manage.py demo; `make demo` runs it alone).
  # HARBOROPS_DEMO_PORT: where they listen (0 = any free port, so two runs on one machine do not collide).
  $py manage.py demo --port "${HARBOROPS_DEMO_PORT:-8790}" & pids+=($!)
fi
sleep 1
echo
echo "  harborops is running at http://$host:$port/   (web, two workers and beat; Ctrl-C stops them all)"
echo
wait -n "${pids[@]}" || true
echo "a harborops process exited on its own; stopping the others" >&2
stop 1
