"""Memory of the embedded run (issue 15): PSS and RSS of every process ``make run`` starts, while the
demo fleet is swept.

    .venv/bin/python bench/memory.py                    # the 10-minute run of docs/benchmarks.md
    .venv/bin/python bench/memory.py --minutes 0.3      # a smoke run (tests/bench/test_memory.py)
    .venv/bin/python bench/memory.py --env HARBOROPS_WEB_WORKERS=1   # a variant of the run's settings

What runs is ``bash scripts/run.sh`` itself, with ``HARBOROPS_DEMO=1``, a throwaway
``HARBOROPS_DATA_DIR`` under /tmp (SQLite + the filesystem broker: the embedded defaults, so
DATABASE_URL and CELERY_BROKER_URL are dropped from the environment), a free port on 127.0.0.1 and
the demo Harbors on any free port, in a session (process group) of its own. The window starts once
the dashboard answers and the demo fleet is registered and has been swept once (by ``manage.py demo``);
every ``--interval`` seconds and at its end every process of the run is found by walking /proc from
run.sh down, given a role by where it sits in that tree and its command line, and its
``/proc/PID/smaps_rollup`` read:

- **PSS** (proportional set size): private pages plus each shared page divided by the number of
  processes mapping it. Summed over processes it is what the run really takes from the machine,
  with the pages a prefork child still shares with its parent counted once. The goal is on PSS.
- **RSS**: every resident page of the process, shared or not. Summed, shared pages count once per
  process (so the RSS total overstates); shown because it is what ``ps`` and ``top`` show.

The goal counts web (gunicorn master and workers), both Celery workers (main process and prefork
children) and beat. The demo simulator (``manage.py demo``) stands in for the Harbors and is shown
but not counted, nor is run.sh's bash. Sweeps are checked, not assumed: the scheduled sweeps that
finished inside the window and the health snapshots stored are read from the run's SQLite database.

Baseline, measured in the same run before it starts: the PSS of a bare ``python -c pass`` and of
``import django; django.setup()`` with harborops' settings -- what the interpreter and Django with
our apps cost in one process, before any process does any work.

At the end the whole process group gets SIGINT (what Ctrl-C does; run.sh stops its children), a second
SIGINT 20 s later if anything is left (Celery's cold shutdown), then SIGKILL, and the data directory is
removed (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GOAL_MIB = 400.0
DEMO_INSTANCES = 12  # harborops/fleet/demo.py: DEMO

# Roles, in table order; COUNTED are the ones the goal adds up.
WEB_MASTER, WEB_WORKERS = "web: gunicorn master", "web: gunicorn workers"
PERIODIC_MAIN, PERIODIC_CHILDREN = "periodic worker: main", "periodic worker: prefork children"
JOBS_MAIN, JOBS_CHILDREN = "jobs worker: main", "jobs worker: prefork children"
BEAT, SIMULATOR, SHELL, OTHER = "beat", "demo simulator (not counted)", "run.sh bash (not counted)", "other"
ROLES = [WEB_MASTER, WEB_WORKERS, PERIODIC_MAIN, PERIODIC_CHILDREN, JOBS_MAIN, JOBS_CHILDREN, BEAT, SIMULATOR,
         SHELL, OTHER]
COUNTED = {WEB_MASTER, WEB_WORKERS, PERIODIC_MAIN, PERIODIC_CHILDREN, JOBS_MAIN, JOBS_CHILDREN, BEAT}


# --- /proc ---------------------------------------------------------------------------------------------

def read_memory(pid: int | str) -> dict[str, int] | None:
    """Rss, Pss and USS (private clean + dirty) in KiB from smaps_rollup; None if the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name.strip()] = int(parts[0])
    if "Pss" not in fields:  # a zombie: no mappings left
        return None
    return {"rss": fields.get("Rss", 0), "pss": fields["Pss"],
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def process_table() -> dict[int, tuple[int, list[str]]]:
    """pid -> (ppid, argv) for every process we can see."""
    table: dict[int, tuple[int, list[str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])  # the name in (...) may hold spaces
        table[int(entry)] = (ppid, argv)
    return table


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def role_of_branch(argv: list[str]) -> tuple[str, str]:
    """(role of a direct child of run.sh, role of its descendants) from its command line."""
    words = [os.path.basename(a) for a in argv]
    if "gunicorn" in words:
        return WEB_MASTER, WEB_WORKERS
    if "celery" in words and "worker" in argv:
        queue = argv[argv.index("-Q") + 1] if "-Q" in argv[:-1] else ""
        if queue == "periodic":
            return PERIODIC_MAIN, PERIODIC_CHILDREN
        if queue == "jobs":
            return JOBS_MAIN, JOBS_CHILDREN
    if "celery" in words and "beat" in argv:
        return BEAT, BEAT
    if "manage.py" in words and "demo" in argv:
        return SIMULATOR, SIMULATOR
    return OTHER, OTHER


def run_tree(root: int) -> list[tuple[int, int, str, list[str]]]:
    """(pid, ppid, role, argv) of run.sh (root) and all its descendants."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: list[tuple[int, int, str, list[str]]] = []
    if root in table:
        found.append((root, table[root][0], SHELL, table[root][1]))
    for top in sorted(children.get(root, [])):
        own, below = role_of_branch(table[top][1])
        found.append((top, root, own, table[top][1]))
        stack = list(children.get(top, []))
        while stack:
            pid = stack.pop()
            # beat run inside a worker (-B) is a fork of it: harborops/celery.py names it in /proc/PID/comm.
            found.append((pid, table[pid][0], BEAT if comm(pid) == "celery-beat" else below, table[pid][1]))
            stack.extend(children.get(pid, []))
    return found


# --- the run's database --------------------------------------------------------------------------------

@dataclass
class FleetState:
    demo_instances: int = 0
    snapshots: int = 0
    sweeps_finished: int = 0
    last_sweep: str = ""


def fleet_state(db: Path) -> FleetState:
    """What the sweeps left in the run's SQLite database (read-only; empty before migrate)."""
    if not db.exists():
        return FleetState()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            demo = conn.execute("select count(*) from fleet_instance where notes = 'simulated by manage.py demo'"
                                ).fetchone()[0]
            snapshots = conn.execute("select count(*) from fleet_healthsnapshot").fetchone()[0]
            sweeps, last = conn.execute("select count(*), max(finished_at) from fleet_sweeprun "
                                        "where trigger = 'scheduled' and finished_at is not null").fetchone()
        return FleetState(demo, snapshots, sweeps, last or "")
    except sqlite3.OperationalError:  # tables not there yet, or the database is locked for a moment
        return FleetState()


# --- the run ---------------------------------------------------------------------------------------------

@dataclass
class Proc:
    pid: int
    ppid: int
    role: str
    rss: int  # KiB
    pss: int
    uss: int


@dataclass
class Sample:
    elapsed: float  # seconds since the window opened
    procs: list[Proc]
    fleet: FleetState

    def by_role(self, field: str) -> dict[str, int]:
        sums = dict.fromkeys(ROLES, 0)
        for p in self.procs:
            sums[p.role] += getattr(p, field)
        return sums

    def counted(self, field: str) -> int:
        return sum(getattr(p, field) for p in self.procs if p.role in COUNTED)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_env(data_dir: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    """The environment of the embedded run: no DATABASE_URL / broker URL / settings module of the caller."""
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR",
            "HARBOROPS_ADMIN_PASSWORD", "HARBOROPS_REDIS_KEY_PREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HARBOROPS_DEMO="1", HARBOROPS_DATA_DIR=str(data_dir), HARBOROPS_HOST="127.0.0.1",
               HARBOROPS_PORT=str(port), HARBOROPS_DEMO_PORT="0", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


BASELINE_CODE = {
    "python -c pass": "",
    "import django; django.setup()": "import django; django.setup()",
}


def baselines(env: dict[str, str]) -> dict[str, dict[str, int]]:
    """Memory of a bare interpreter and of Django set up with our settings, each in a fresh process."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "harborops.settings", "PYTHONPATH": str(ROOT)}
    out: dict[str, dict[str, int]] = {}
    for label, code in BASELINE_CODE.items():
        script = f"{code}\nprint(open('/proc/self/smaps_rollup').read())"
        proc = subprocess.run([str(PYTHON), "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        fields = {}
        for line in proc.stdout.splitlines()[1:]:
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[name.strip()] = int(rest.split()[0])
        out[label] = {"rss": fields["Rss"], "pss": fields["Pss"],
                      "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}
    return out


def log_tail(log: Path, lines: int = 40) -> str:
    """The end of the run's output, without the generated admin password ensure_admin prints."""
    text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
    return "\n".join("[a line with a password, left out]" if "password" in line.lower() else line for line in text)


def wait_until_ready(proc: subprocess.Popen[bytes], log: Path, port: int, db: Path, timeout: float) -> float:
    """Wait for run.sh's banner, the login page and the demo fleet registered and swept once by the demo
    itself; return the seconds it took."""
    import urllib.error
    import urllib.request

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"run.sh exited ({proc.returncode}) before it was ready:\n{log_tail(log)}")
        state = fleet_state(db)
        # The demo registers its Harbors, then sweeps them once itself: a snapshot each once it is done.
        if (b"harborops is running at" in log.read_bytes() and state.demo_instances >= DEMO_INSTANCES
                and state.snapshots >= DEMO_INSTANCES):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(1)
    raise RuntimeError(f"the run was not ready after {timeout:.0f}s:\n{log_tail(log)}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(proc: subprocess.Popen[bytes]) -> str:
    """Ctrl-C for the whole group; Ctrl-C again after 20 s (a Celery worker's cold shutdown: a running
    demo job would hold its warm shutdown); SIGKILL for whatever is left 20 s later. Say what it took."""
    pgid = proc.pid
    for sig, label in ((signal.SIGINT, "SIGINT"), (signal.SIGINT, "a second SIGINT (cold shutdown)")):
        if group_alive(pgid):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + 20
        while group_alive(pgid) and time.monotonic() < deadline:
            proc.poll()  # reap run.sh so the group can empty
            time.sleep(0.3)
        if not group_alive(pgid):
            proc.wait(timeout=10)
            return label
    os.killpg(pgid, signal.SIGKILL)
    proc.wait(timeout=10)
    return "SIGKILL (something outlived two SIGINTs by 40 s)"


def take_sample(root: int, t0: float, db: Path) -> Sample:
    procs = []
    for pid, ppid, role, _argv in run_tree(root):
        mem = read_memory(pid)
        if mem is not None:
            procs.append(Proc(pid, ppid, role, **mem))
    return Sample(round(time.monotonic() - t0, 1), procs, fleet_state(db))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="harborops-memory-", dir="/tmp"))
    port = args.port or free_port()
    env = run_env(data_dir, port, dict(kv.split("=", 1) for kv in args.env))
    log = data_dir / "run.out"
    db = data_dir / "harborops.sqlite3"
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                              "minutes": args.minutes, "interval": args.interval,
                              "settings": {k: v for k, v in env.items() if k.startswith("HARBOROPS_")
                                           and k not in ("HARBOROPS_DATA_DIR",)}}
    try:
        os.makedirs(data_dir, exist_ok=True)
        result["baseline"] = baselines(env)
        with log.open("wb") as out:
            proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        result["pgid"] = proc.pid  # its own session: run.sh leads the process group
        try:
            result["ready_seconds"] = round(wait_until_ready(proc, log, port, db, args.ready_timeout), 1)
            t0 = time.monotonic()
            start_state = fleet_state(db)
            samples = [take_sample(proc.pid, t0, db)]
            end = t0 + args.minutes * 60
            while (now := time.monotonic()) < end:
                time.sleep(min(args.interval, end - now))
                if proc.poll() is not None:
                    raise RuntimeError(f"run.sh exited ({proc.returncode}) during the window:\n{log_tail(log)}")
                samples.append(take_sample(proc.pid, t0, db))
            final = samples[-1]
            # Every role the run must have, present at the end (a role with no process is a broken run).
            missing = [r for r in (WEB_MASTER, WEB_WORKERS, PERIODIC_MAIN, JOBS_MAIN, BEAT, SIMULATOR)
                       if not any(p.role == r for p in final.procs)]
            if missing:
                raise RuntimeError(f"no process for {missing} at the end:\n{log_tail(log)}")
        finally:
            result["stopped_by"] = stop_group(proc)
        result["fleet"] = {"at_start": asdict(start_state), "at_end": asdict(final.fleet),
                           "sweeps_in_window": final.fleet.sweeps_finished - start_state.sweeps_finished,
                           "snapshots_in_window": final.fleet.snapshots - start_state.snapshots}
        result["samples"] = [asdict(s) for s in samples]
        result["summary"] = summarise(samples)
    finally:
        if args.keep:
            result["data_dir"] = str(data_dir)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return result


def summarise(samples: list[Sample]) -> dict[str, Any]:
    final = samples[-1]
    peak_pss = {r: max(s.by_role("pss")[r] for s in samples) for r in ROLES}
    rows = []
    for role in ROLES:
        n = sum(1 for p in final.procs if p.role == role)
        if n or peak_pss[role]:
            rows.append({"role": role, "processes": n, "pss": final.by_role("pss")[role],
                         "rss": final.by_role("rss")[role], "uss": final.by_role("uss")[role],
                         "peak_pss": peak_pss[role], "counted": role in COUNTED})
    peak = max(samples, key=lambda s: s.counted("pss"))
    return {"rows": rows, "total_pss": final.counted("pss"), "total_rss": final.counted("rss"),
            "total_uss": final.counted("uss"), "peak_total_pss": peak.counted("pss"), "peak_at": peak.elapsed,
            "processes": sum(1 for p in final.procs if p.role in COUNTED)}


# --- output ----------------------------------------------------------------------------------------------

def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def report(result: dict[str, Any]) -> str:
    s, fleet = result["summary"], result["fleet"]
    lines = [f"Embedded run (bash scripts/run.sh, HARBOROPS_DEMO=1), {result['minutes']} min after it was ready "
             f"({result['ready_seconds']} s to start), sampled every {result['interval']} s "
             f"({len(result['samples'])} samples); {result['machine']['cpus']} CPUs, "
             f"Python {result['machine']['python']}.",
             f"Run settings: {', '.join(f'{k}={v}' for k, v in sorted(result['settings'].items()))}.",
             f"Sweeps: {fleet['sweeps_in_window']} scheduled sweeps finished in the window "
             f"({fleet['at_end']['sweeps_finished']} in all, last at {fleet['at_end']['last_sweep'] or 'never'}), "
             f"{fleet['snapshots_in_window']} health snapshots stored in the window "
             f"({fleet['at_end']['demo_instances']} demo instances).", "",
             "| role | processes | PSS MiB (end) | RSS MiB (end) | USS MiB (end) | PSS MiB (peak) |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in s["rows"]:
        lines.append(f"| {row['role']} | {row['processes']} | {mib(row['pss'])} | {mib(row['rss'])} | "
                     f"{mib(row['uss'])} | {mib(row['peak_pss'])} |")
    lines.append(f"| **web + workers + beat** | {s['processes']} | **{mib(s['total_pss'])}** | {mib(s['total_rss'])} "
                 f"| {mib(s['total_uss'])} | {mib(s['peak_total_pss'])} (at {s['peak_at']:.0f} s) |")
    lines += ["", "Baseline (same run, one fresh process each, before the run starts):", "",
              "| process | PSS MiB | RSS MiB | USS MiB |", "|---|---:|---:|---:|"]
    for label, mem in result["baseline"].items():
        lines.append(f"| `{label}` | {mib(mem['pss'])} | {mib(mem['rss'])} | {mib(mem['uss'])} |")
    met = s["total_pss"] <= GOAL_MIB * 1024
    peak_note = ("" if s["peak_total_pss"] <= GOAL_MIB * 1024
                 else f"; the peak sample ({mib(s['peak_total_pss'])} MiB) was above it")
    lines += ["", f"Goal: web + workers + beat ≤ {GOAL_MIB:.0f} MiB PSS at the end of the window: "
                  f"**{'met' if met else 'missed'}** ({mib(s['total_pss'])} MiB{peak_note}). "
                  f"Stopped by {result['stopped_by']}."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the window once the run is ready")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--port", type=int, default=0, help="web port on 127.0.0.1 (0 = a free one)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the run (a variant: HARBOROPS_WEB_WORKERS=1, ...)")
    parser.add_argument("--min-sweeps", type=int, default=None,
                        help="fail unless this many scheduled sweeps finish in the window "
                             "(default: one per two minutes of window)")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and run.out) afterwards")
    parser.add_argument("--json", type=Path, help="write the raw samples and the summary here")
    args = parser.parse_args()
    if any("=" not in kv for kv in args.env):
        parser.error("--env takes KEY=VALUE")
    result = measure(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(report(result))
    min_sweeps = int(args.minutes // 2) if args.min_sweeps is None else args.min_sweeps
    if result["fleet"]["sweeps_in_window"] < min_sweeps:
        print(f"\nFAILED: {result['fleet']['sweeps_in_window']} scheduled sweeps in the window, "
              f"expected at least {min_sweeps}: the figures are not those of a swept fleet.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
