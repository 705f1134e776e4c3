"""The benchmark scripts still run (bench/): each at a tiny size, in a subprocess. Not timed: the
figures themselves go to docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_script(script: str, *args: str, timeout: float = 110) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HARBOROPS_DATA_DIR")}
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)})
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


@pytest.mark.timeout(120)
def test_sweep_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    # TLS only (plain HTTP is the same code without the CA), every client, the faulty run.
    proc = run_script("sweep.py", "--sizes", "8", "--repeat", "1", "--transports", "tls",
                      "--clients", "harborops,harborapi,aiohttp", "--faulty", "0.5", "--fault-timeout", "0.5",
                      "--timeout", "5", "--quiet-wait", "0", "--server-processes", "1", "--big", "12",
                      "--fanout", "6", "--json", str(out))
    results = json.loads(out.read_text())
    assert [(r["workers"], r["counts"]) for r in results["fanout"]] == [(1, {"up": 6}), (2, {"up": 6})]
    big = [r for r in results["rows"] if r["instances"] == 12]
    assert [(r["client"], r["counts"]) for r in big] == [("harborops", {"up": 12})]
    rows = {r["client"]: r for r in results["rows"] if r["instances"] == 8}
    assert set(rows) == {"harborops", "harborapi", "aiohttp", "harborops, 10 % faulty"}
    ours = rows["harborops"]
    assert ours["counts"] == {"up": 8} and ours["calls"] == 32, ours
    assert ours["calls_by_path"] == {p: 8 for p in ("/health", "/systeminfo", "/systeminfo/volumes", "/statistics")}
    for other in ("harborapi", "aiohttp"):
        assert rows[other]["calls"] == 32 and rows[other]["errors"] == {}, rows[other]
    faulty = rows["harborops, 10 % faulty"]
    assert faulty["faulty"] == {"timeout": 1, "5xx": 1, "garbage": 1, "401": 1}
    outcomes = {k: d["n"] for k, d in faulty["probe_seconds"].items()}
    assert outcomes == {"up": 4, "timeout": 1, "server_error": 1, "bad_response": 1, "auth": 1}, outcomes
    assert "| tls | 8 | harborops |" in proc.stdout and "Goals:" in proc.stdout


@pytest.mark.timeout(120)
def test_overview_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):  # the PostgreSQL run: a database of its own there
        db = url.rsplit("/", 1)[0] + f"/harborops_bench_smoke_{os.getpid()}"
    else:
        db = f"sqlite:///{tmp_path / 'overview.sqlite3'}"
    out = tmp_path / "overview.json"
    proc = run_script("overview.py", "--sizes", "3,6", "--snapshots", "2", "--requests", "2",
                      "--database-url", db, "--json", str(out))
    results = json.loads(out.read_text())
    assert [r["instances"] for r in results["rows"]] == [3, 6]
    assert results["rows"][0]["page"]["queries"] == results["rows"][1]["page"]["queries"]
    assert results["explain"], "no fleet query was explained"
    assert "| 6 |" in proc.stdout


@pytest.mark.timeout(120)
def test_record_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        db = url.rsplit("/", 1)[0] + f"/harborops_bench_record_smoke_{os.getpid()}"
    else:
        db = f"sqlite:///{tmp_path / 'record.sqlite3'}"
    out = tmp_path / "record.json"
    proc = run_script("record.py", "--sizes", "5,10", "--repeat", "1", "--database-url", db, "--json", str(out))
    rows = json.loads(out.read_text())["rows"]
    assert [(r["instances"], r["way"]) for r in rows] == [(5, "values"), (5, "case"), (10, "values"), (10, "case")]
    assert all(r["state_statements"] == 1 for r in rows), rows
    assert "UPDATE … FROM (VALUES …)" in proc.stdout
