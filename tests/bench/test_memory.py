"""bench/memory.py still measures the embedded run: started through scripts/run.sh with the demo fleet,
every role found and sampled, the table and the baseline printed, and the whole process group gone
afterwards. A short window (not the 10 minutes of docs/benchmarks.md); the figures are not checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.embedded, pytest.mark.worker, pytest.mark.timeout(420)]

ROLES = ["web: gunicorn master", "web: gunicorn workers", "periodic worker: main", "jobs worker: main", "beat",
         "demo simulator (not counted)"]


def test_memory_benchmark_measures_every_role_of_the_run_and_stops_it(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    # The script drops DATABASE_URL / CELERY_BROKER_URL itself: it measures the embedded run on either path.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "HARBOROPS_DATA_DIR")}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "memory.py"), "--minutes", "0.3", "--interval", "6",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    table = proc.stdout

    for role in ROLES:
        row = re.search(rf"^\| {re.escape(role)} \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", table, re.MULTILINE)
        assert row, f"no row for {role!r}:\n{table}"
        assert int(row.group(1)) >= 1 and float(row.group(2)) > 0 and float(row.group(3)) > 0, row.group(0)
    total = re.search(r"^\| \*\*web \+ workers \+ beat\*\* \| \d+ \| \*\*([\d.]+)\*\* \|", table, re.MULTILINE)
    assert total, table
    assert re.search(r"^\| `import django; django.setup\(\)` \| [\d.]+ \|", table, re.MULTILINE), table
    assert re.search(r"Goal: web \+ workers \+ beat ≤ 400 MiB PSS at the end of the window: \*\*(met|missed)\*\*",
                     table), table
    assert "password" not in table.lower() and "password" not in proc.stderr.lower()

    result = json.loads(out.read_text())
    samples = result["samples"]
    assert len(samples) >= 3, len(samples)  # one at the start, one per 6 s, one at the end of 18 s
    # The total in the table is the sum over the counted roles of the last sample; the simulator is not counted.
    rows = {r["role"]: r for r in result["summary"]["rows"]}
    assert rows["beat"]["counted"] and not rows["demo simulator (not counted)"]["counted"]
    last = samples[-1]["procs"]
    assert f"{sum(p['pss'] for p in last if rows[p['role']]['counted']) / 1024:.1f}" == total.group(1)
    assert result["fleet"]["at_end"]["demo_instances"] == 12, result["fleet"]
    assert result["fleet"]["at_end"]["snapshots"] >= 12, result["fleet"]  # the demo's first sweep, at least
    assert result["baseline"]["import django; django.setup()"]["pss"] > result["baseline"]["python -c pass"]["pss"]

    # Stopped: nothing of the run's process group is left, and its throwaway data directory is gone.
    with pytest.raises(ProcessLookupError):
        os.killpg(result["pgid"], 0)
    for p in last:
        assert not Path(f"/proc/{p['pid']}/smaps_rollup").exists() or _not_ours(p["pid"], result["pgid"])
    assert "data_dir" not in result


def _not_ours(pid: int, pgid: int) -> bool:
    """A pid reused by some other process since: not in the run's group."""
    try:
        return os.getpgid(pid) != pgid
    except ProcessLookupError:
        return True
