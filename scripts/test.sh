#!/usr/bin/env bash
# The test command. As root on a fresh Debian 12 machine: installs the Debian packages the tests
# need (only missing ones), starts PostgreSQL and Redis if they are down, builds the virtualenv,
# runs the whole suite on PostgreSQL + Redis, the `embedded` subset on SQLite + the filesystem
# broker, then ruff and mypy. With CI=true a skipped test fails the run (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# Debian packages the tests use: Chromium for Playwright, docker-compose to validate the compose file,
# slapd + ldap-utils (real OpenLDAP for the access tests), libldap2-dev + libsasl2-dev (python-ldap builds),
# openssh-server/-client (a real sshd for the SSH and install tests; the test installer's prepare uses
# python3-yaml; curl, iproute2 (ss) and openssl are what install preflight and fetch run on the host).
packages=(chromium docker-compose postgresql redis-server slapd ldap-utils libldap2-dev libsasl2-dev openssh-server openssh-client python3-yaml curl iproute2 openssl docker-registry skopeo prometheus prometheus-alertmanager sudo)
scripts/ensure-debs.sh "${packages[@]}"

# PostgreSQL and Redis on 127.0.0.1 (the machine normally runs both already).
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

scripts/ensure-venv.sh requirements-dev.txt

# Unique names per run: two runs on one machine never share a database, queue or data dir.
run_id="$(date +%s)_$$"
work=$(mktemp -d /tmp/harborops-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
export CI=${CI:-false}
export PYTHONDONTWRITEBYTECODE=1
export DJANGO_ALLOW_ASYNC_UNSAFE=true   # Playwright's sync API runs an event loop in the test thread

echo "== full suite on PostgreSQL + Redis (run $run_id)"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/harborops_$run_id" \
CELERY_BROKER_URL="redis://127.0.0.1:6379/0" \
HARBOROPS_REDIS_KEY_PREFIX="harborops-test-$run_id:" \
HARBOROPS_DATA_DIR="$work/pg" \
  .venv/bin/python -m pytest "$@"

echo "== embedded subset on SQLite + filesystem broker"
rc=0
env -u DATABASE_URL -u CELERY_BROKER_URL HARBOROPS_DATA_DIR="$work/embedded" \
  .venv/bin/python -m pytest -m "embedded and not postgres" "$@" || rc=$?
# A single-test run (arguments given) may pick no embedded test: pytest's "no tests" (5) is fine then.
if [ $rc -ne 0 ] && ! { [ $rc -eq 5 ] && [ $# -gt 0 ]; }; then exit $rc; fi

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy harborops

echo "== all green in $(( $(date +%s) - start )) s"
