"""bench/pages.py still runs (at a tiny size, and its query-count comparison at a tinier one): every page
of the resolver is either measured or left out with a reason. Not timed: the figures go to
docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db, pytest.mark.timeout(300)]


def server_url() -> str:
    s = connection.settings_dict
    host, port, user = s.get("HOST") or "127.0.0.1", s.get("PORT") or 5432, s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}"


def test_the_pages_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    # Marked postgres: the embedded pass deselects it. The benchmark seeds with COPY.
    assert connection.vendor == "postgresql", "the pages benchmark needs DATABASE_URL=postgres://..."
    out = tmp_path / "pages.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "HARBOROPS_DATA_DIR"))}
    done = subprocess.run(
        [sys.executable, "bench/pages.py", "--size", "tiny", "--compare-size", "tinier", "--requests", "1",
         "--compare-requests", "1", "--server", server_url(), "--json", str(out), "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-5000:]
    results = json.loads(out.read_text())

    tables = results["seed"]["tables"]
    assert tables["Harbor events (COPY, indexes rebuilt)"]["rows"] == 400
    assert results["rows"]["events_harborevent"] == 400 and results["rows"]["fleet_healthsnapshot"] == 4 * 6

    pages = {p["route"]: p for p in results["pages"]}
    for route in ("fleet:instance_list", "fleet:instance_detail", "events:event_list", "events:instance_list",
                  "core:job_detail", "audit-api:actionlog-list", "access:mapping_list", "replication:pair_report"):
        assert {int(s) for s in pages[route]["status"]} == {200}, (route, pages[route]["status"])
        assert pages[route]["queries"] > 0 and pages[route]["queries_small"] is not None
    assert pages["fleet:instance_list"]["role"] == "viewer" and pages["core:user_list"]["role"] == "admin"
    failing = {r: p["status"] for r, p in pages.items() if any(int(s) >= 500 or int(s) == 404 for s in p["status"])}
    assert not failing, f"pages that fail, or detail pages asked for a row they do not show: {failing}"

    skipped = {s["route"]: s["reason"] for s in results["skipped"]}
    assert "live" in skipped["access:plan"] and "download" in skipped["events:event_export"]
    assert skipped["core:job_cancel"].startswith("POST only")
    unfilled = {r: why for r, why in skipped.items() if why.startswith("no seeded row")}
    assert not unfilled, f"routes whose path argument bench/pages.py cannot fill (add them to PK_OF): {unfilled}"

    assert "| page | as | median ms | p95 ms | SQL ms | queries (tinier / tiny) | status | goal |" in done.stdout
