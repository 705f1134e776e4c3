"""bench/audit_ingest.py still runs (at a tiny size): the figures in docs/benchmarks.md can be redone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.support.processes import REPO

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def server_url() -> str:
    s = connection.settings_dict
    host, port, user = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432, s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/postgres"


def run(*args: str) -> str:
    if connection.vendor != "postgresql":  # deselected on the embedded path (marker postgres)
        pytest.skip("the audit benchmarks need PostgreSQL: set DATABASE_URL=postgres://...")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    done = subprocess.run([sys.executable, "bench/audit_ingest.py", *args, "--server", server_url()], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_ingest_benchmark_runs() -> None:
    out = run("--events", "700", "--batch", "300")
    assert "700 events" in out and "| **ingest end to end**" in out and "raw `COPY`" in out


def test_the_search_benchmark_runs() -> None:
    out = run("search", "--rows", "3000", "--instances", "4", "--repeat", "2")
    assert "3,000 stored events" in out and "| user=bob |" in out
