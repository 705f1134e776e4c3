"""Sweep benchmark: the health sweep of N simulated Harbors, through the service the scheduled task calls.

    .venv/bin/python bench/sweep.py                     # the full run of docs/benchmarks.md
    .venv/bin/python bench/sweep.py --sizes 5 --repeat 1 --fault-timeout 0.5   # a smoke run

Fixed conditions: 4 calls per instance (GET /health, /systeminfo, /systeminfo/volumes, /statistics:
the simulated Harbors are v2.6, which has no /jobservice API), 100 requests in flight, 50 ms latency
injected by the simulator on every response, over plain HTTP and over TLS (a throwaway CA; one
SSLContext per CA bundle on both clients).

Every measurement runs in a fresh child process, alone: wall time, CPU time of that process
(``time.process_time``: user + system, all threads), peak RSS (``ru_maxrss``) and its growth
over the RSS just before the sweep. The simulator runs in separate processes (bench/simserve.py),
so its CPU never counts as the client's; on a small machine it still competes for the cores.

- ``harborops``: ``harborops.fleet.services.sweep.sweep_ids`` -- exactly what the Celery task
  ``sweep_chunk`` calls: load the Instance rows (SQLite, a throwaway database), poll them with
  the async client (``sweep_instances``), store snapshots and state (``record_probes``). The
  phases are timed by wrapping the module's functions, not by changing them.
- ``harborapi``: the same four GETs per instance with the harborapi PyPI client (one
  ``HarborAsyncClient`` per instance, ``asyncio.Semaphore(100)``, retries off, same SSLContext).
- ``harborops, 10 % faulty``: every 10th instance times out (never answers), answers 500,
  answers a 200 with half a JSON body, or 401 -- in turn; the sweep's timeout is --fault-timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pki import Pki, make_pki  # noqa: E402
from bench.simserve import ADMIN, SimFleet, faulty_layout  # noqa: E402

CALLS_PER_INSTANCE = 4


# --- the child: one measurement in a fresh process ---------------------------------------------------

def system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def wait_for_quiet(max_wait: float, idle_needed: float = 0.85) -> float:
    """Wait (up to ``max_wait`` s) until the machine was at least 85 % idle for two seconds running,
    so that other work on a shared machine does not land inside a measurement. Returns the wait."""
    t0 = time.monotonic()
    quiet = 0
    while time.monotonic() - t0 < max_wait and quiet < 2:
        b0, t_0 = system_cpu()
        time.sleep(1.0)
        b1, t_1 = system_cpu()
        quiet = quiet + 1 if 1 - (b1 - b0) / max(t_1 - t_0, 1e-9) >= idle_needed else 0
    return time.monotonic() - t0


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _url(cfg: dict[str, Any], n: int) -> str:
    ports = cfg["ports"]
    return f"{cfg['scheme']}://{cfg['host']}:{ports[n % len(ports)]}/h/{n}"


def _django(cfg: dict[str, Any]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["HARBOROPS_DATA_DIR"] = cfg["data_dir"]
    os.environ["DATABASE_URL"] = f"sqlite:///{cfg['db']}"
    os.environ["HARBOROPS_SECRET_KEYS"] = cfg["fernet_key"]
    import django

    django.setup()


def child_harborops(cfg: dict[str, Any]) -> dict[str, Any]:
    _django(cfg)
    from harborops.fleet.models import Instance
    from harborops.fleet.services import sweep
    from harborops.harbor import http
    from harborops.harbor.client import AsyncHarborClient

    n = cfg["instances"]
    Instance.objects.bulk_create(
        Instance(name=f"harbor-{i}", url=_url(cfg, i), username=ADMIN[0], password=ADMIN[1],
                 ca_bundle=cfg["ca_pem"] or "") for i in range(1, n + 1))
    ids = list(Instance.objects.order_by("pk").values_list("pk", flat=True))

    # Measurement hooks around the service's own functions (module globals it looks up at call time).
    calls = Counter[str]()
    call_seconds: list[float] = []
    lags: list[float] = []
    durations: dict[int, float] = {}
    phases: dict[str, float] = {}
    orig_probe, orig_sweep, orig_record = sweep.probe_instance, sweep.sweep_instances, sweep.record_probes

    async def timed_probe(instance: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        probe = await orig_probe(instance, **kw)
        durations[instance.pk] = time.perf_counter() - t0
        return probe

    async def timed_sweep(*a: Any, **kw: Any) -> Any:
        monitor = asyncio.create_task(_loop_lag(lags))
        t0, c0 = time.perf_counter(), time.process_time()
        result = await orig_sweep(*a, **kw)
        phases["poll_wall"], phases["poll_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        monitor.cancel()
        return result

    def timed_record(probes: Any) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        result = orig_record(probes)
        phases["record_wall"], phases["record_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        return result

    # Requests are counted and timed around the client's own send (``_send``: one call, errors
    # included): a transport wrapper would switch the aiohttp path onto its hooked (slower) route.
    orig_send = AsyncHarborClient._send

    async def counted_send(self: Any, req: Any) -> Any:
        calls[req.path] += 1
        t0 = time.perf_counter()
        try:
            return await orig_send(self, req)
        finally:
            call_seconds.append(time.perf_counter() - t0)

    sweep.probe_instance, sweep.sweep_instances, sweep.record_probes = timed_probe, timed_sweep, timed_record
    AsyncHarborClient._send = counted_send  # type: ignore[method-assign]
    assert not http.wrappers_installed()

    # Warm-up (a long-lived worker has its imports and pydantic schemas built): one instance, not stored.
    warm = Instance.objects.get(pk=ids[0])
    asyncio.run(orig_sweep([warm], timeout=cfg["timeout"]))
    calls.clear()
    call_seconds.clear()
    durations.clear()

    gc.collect()
    rss0 = _rss_kib()
    sys0 = system_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    result = sweep.sweep_ids(ids, timeout=cfg["timeout"], concurrency=cfg["concurrency"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sys1 = system_cpu()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    kinds: dict[str, list[float]] = {}
    for inst in Instance.objects.filter(pk__in=ids).only("pk", "error_kind", "status"):
        kinds.setdefault(inst.error_kind or inst.status, []).append(durations.get(inst.pk, 0.0))
    return {
        "wall": wall, "cpu": cpu, "calls": sum(calls.values()), "calls_by_path": dict(calls),
        "peak_rss_kib": peak, "rss_before_kib": rss0, **phases,
        "counts": dict(result.counts), "swept": result.swept,
        "probe_seconds": {k: _dist(v) for k, v in kinds.items()}, "call_seconds": _dist(call_seconds),
        "loop_lag": _dist(lags), "system_busy": sys1[0] - sys0[0], "system_total": sys1[1] - sys0[1],
    }


async def _loop_lag(lags: list[float], every: float = 0.01) -> None:
    """How late the event loop wakes a 10 ms sleeper: time it spends running callbacks back to back."""
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - t0 - every)


def _measure_peer(cfg: dict[str, Any], n: int, sweep_all: Callable[[list[str]], Coroutine[Any, Any, None]],
                  calls: Counter[str], durations: list[float], errors: Counter[str]) -> dict[str, Any]:
    """Warm up on one instance, then time one sweep of ``n`` (a peer client: harborapi, bare aiohttp)."""
    asyncio.run(sweep_all([_url(cfg, 1)]))  # warm-up, as for ours
    calls.clear()
    durations.clear()
    errors.clear()
    urls = [_url(cfg, i) for i in range(1, n + 1)]
    gc.collect()
    rss0 = _rss_kib()
    sys0 = system_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    asyncio.run(sweep_all(urls))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sys1 = system_cpu()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall": wall, "cpu": cpu, "calls": sum(calls.values()), "calls_by_path": dict(calls),
            "peak_rss_kib": peak, "rss_before_kib": rss0, "poll_wall": wall, "poll_cpu": cpu,
            "system_busy": sys1[0] - sys0[0], "system_total": sys1[1] - sys0[1],
            "errors": dict(errors), "probe_seconds": {"all": _dist(durations)}}


def child_harborapi(cfg: dict[str, Any]) -> dict[str, Any]:
    import ssl

    from harborapi import HarborAsyncClient

    n = cfg["instances"]
    verify = ssl.create_default_context(cadata=cfg["ca_pem"]) if cfg["ca_pem"] else ssl.create_default_context()
    calls = Counter[str]()
    errors = Counter[str]()
    durations: list[float] = []

    async def probe(url: str) -> None:
        t0 = time.perf_counter()
        client = HarborAsyncClient(url=url + "/api/v2.0", username=ADMIN[0], secret=ADMIN[1],
                                   verify=verify, timeout=cfg["timeout"], retry=None)
        try:
            for name, call in (("health", client.health_check), ("systeminfo", client.get_system_info),
                               ("volumes", client.get_system_volume_info), ("statistics", client.get_statistics)):
                calls[name] += 1
                await call()
        except Exception as exc:
            errors[type(exc).__name__] += 1
        finally:
            await client.client.aclose()
        durations.append(time.perf_counter() - t0)

    async def sweep_all(urls: list[str]) -> None:
        gate = asyncio.Semaphore(cfg["concurrency"])

        async def one(url: str) -> None:
            async with gate:
                await probe(url)

        await asyncio.gather(*(one(u) for u in urls))

    return _measure_peer(cfg, n, sweep_all, calls, durations, errors)


def child_aiohttp(cfg: dict[str, Any]) -> dict[str, Any]:
    """The floor: aiohttp alone, one session per instance, the four GETs and json.loads -- no client
    layer, no validation, no database. Not something to ship; it says what the layers cost."""
    import ssl

    import aiohttp

    n = cfg["instances"]
    verify = ssl.create_default_context(cadata=cfg["ca_pem"]) if cfg["ca_pem"] else ssl.create_default_context()
    auth = aiohttp.BasicAuth(*ADMIN)
    timeout = aiohttp.ClientTimeout(total=cfg["timeout"] * 2, sock_read=cfg["timeout"], sock_connect=cfg["timeout"])
    calls = Counter[str]()
    errors = Counter[str]()
    durations: list[float] = []

    async def probe(url: str) -> None:
        t0 = time.perf_counter()
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=verify), auth=auth, timeout=timeout,
                                             cookie_jar=aiohttp.DummyCookieJar()) as s:
                for path in ("/health", "/systeminfo", "/systeminfo/volumes", "/statistics"):
                    calls[path] += 1
                    async with s.get(url + "/api/v2.0" + path) as r:
                        r.raise_for_status()
                        json.loads(await r.read())
        except Exception as exc:
            errors[type(exc).__name__] += 1
        durations.append(time.perf_counter() - t0)

    async def sweep_all(urls: list[str]) -> None:
        gate = asyncio.Semaphore(cfg["concurrency"])

        async def one(url: str) -> None:
            async with gate:
                await probe(url)

        await asyncio.gather(*(one(u) for u in urls))

    return _measure_peer(cfg, n, sweep_all, calls, durations, errors)


def child_chunks(cfg: dict[str, Any]) -> dict[str, Any]:
    """One sweep worker: its instances (numbers ``first`` ..), swept as ``chunks`` one after another
    through ``fleet.tasks.sweep_chunk``'s body (``sweep_ids``), as one Celery worker runs the chunk
    tasks it receives. Waits for ``go_file`` after the warm-up, so two of these start together."""
    _django(cfg)
    from harborops.fleet.models import Instance
    from harborops.fleet.services import sweep

    first, sizes = cfg["first"], cfg["chunks"]
    numbers = list(range(first, first + sum(sizes)))
    Instance.objects.bulk_create(
        Instance(name=f"harbor-{i}", url=_url(cfg, i), username=ADMIN[0], password=ADMIN[1],
                 ca_bundle=cfg["ca_pem"] or "") for i in numbers)
    ids = list(Instance.objects.order_by("pk").values_list("pk", flat=True))
    asyncio.run(sweep.sweep_instances([Instance.objects.get(pk=ids[0])], timeout=cfg["timeout"]))  # warm-up
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while not Path(cfg["go_file"]).exists():
        time.sleep(0.005)
    start, c0 = time.time(), time.process_time()
    counts: Counter[str] = Counter()
    offset = 0
    for size in sizes:
        result = sweep.sweep_ids(ids[offset : offset + size], timeout=cfg["timeout"], concurrency=cfg["concurrency"])
        counts.update(result.counts)
        offset += size
    return {"start": start, "end": time.time(), "cpu": time.process_time() - c0, "counts": dict(counts),
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _dist(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    s = sorted(values)
    return {"n": len(s), "p50": s[len(s) // 2], "p95": s[min(len(s) - 1, int(len(s) * 0.95))], "max": s[-1]}


def child_main(cfg: dict[str, Any]) -> None:
    if cfg.get("profile"):
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)  # CPU, not waiting
        out = prof.runcall(CHILDREN[cfg["client"]], cfg)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    else:
        out = CHILDREN[cfg["client"]](cfg)
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")


CHILDREN = {"harborops": child_harborops, "harborapi": child_harborapi, "aiohttp": child_aiohttp,
            "chunks": child_chunks}


# --- the orchestrator --------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.template_db = work / "template.sqlite3"
        from cryptography.fernet import Fernet

        self.fernet_key = Fernet.generate_key().decode()
        self._migrate()

    def _env(self, db: Path) -> dict[str, str]:
        path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return {**os.environ, "PYTHONPATH": path,
                "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "bench.settings"),
                "HARBOROPS_DATA_DIR": str(self.work / "data"), "DATABASE_URL": f"sqlite:///{db}",
                "HARBOROPS_SECRET_KEYS": self.fernet_key}

    def _migrate(self) -> None:
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0", "--skip-checks"], check=True,
                       cwd=ROOT, env=self._env(self.template_db))

    def measure(self, client: str, sim: SimFleet, *, timeout: float, profile: bool = False) -> dict[str, Any]:
        db = self.work / f"run-{time.monotonic_ns()}.sqlite3"
        shutil.copyfile(self.template_db, db)
        cfg = {"client": client, "instances": sim.instances, "ports": sim.ports, "scheme": sim.scheme,
               "host": sim.host, "ca_pem": sim.pki.ca_pem if sim.pki else None, "timeout": timeout,
               "concurrency": self.args.concurrency, "db": str(db), "data_dir": str(self.work / "data"),
               "fernet_key": self.fernet_key, "profile": profile}
        waited = wait_for_quiet(self.args.quiet_wait) if self.args.quiet_wait else 0.0
        sim_cpu0 = sim.cpu_seconds()
        proc = subprocess.run([sys.executable, "-m", "bench.sweep", "--child", json.dumps(cfg)], cwd=ROOT,
                              env=self._env(db), capture_output=True, text=True, timeout=600)
        sim_cpu = sim.cpu_seconds() - sim_cpu0  # includes the child's warm-up instance: negligible
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        if profile:
            sys.stderr.write(proc.stderr)
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{client} run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                               f"{proc.stderr[-3000:]}")
        out = {**json.loads(lines[-1][len("RESULT "):]), "sim_cpu": sim_cpu, "waited": waited}
        # CPU the rest of the machine used during the sweep: busy time less ours and the simulator's.
        out["others_cpu"] = max(0.0, out["system_busy"] - out["cpu"] - sim_cpu)
        return out


def measure_fanout(bench: Bench, sim: SimFleet, *, workers: int, size: int, timeout: float) -> dict[str, Any]:
    """Sweep ``size`` instances as 2 chunks: with ``workers=1`` one process polls both chunks one
    after the other; with ``workers=2`` two processes poll one chunk each, started together. Wall
    time = first start to last end (each child's own clock), so process start-up is not counted."""
    half = size // 2
    plans = [[(1, [half, size - half])]] if workers == 1 else [[(1, [half])], [(1 + half, [size - half])]]
    go = bench.work / f"go-{time.monotonic_ns()}"
    waited = wait_for_quiet(bench.args.quiet_wait) if bench.args.quiet_wait else 0.0
    procs = []
    dbs = []
    for plan in plans:
        (first, chunks), = plan
        db = bench.work / f"fan-{time.monotonic_ns()}.sqlite3"
        shutil.copyfile(bench.template_db, db)
        dbs.append(db)
        cfg = {"client": "chunks", "first": first, "chunks": chunks, "ports": sim.ports, "scheme": sim.scheme,
               "host": sim.host, "ca_pem": sim.pki.ca_pem if sim.pki else None, "timeout": timeout,
               "concurrency": bench.args.concurrency, "db": str(db), "data_dir": str(bench.work / "data"),
               "fernet_key": bench.fernet_key, "go_file": str(go)}
        procs.append(subprocess.Popen([sys.executable, "-m", "bench.sweep", "--child", json.dumps(cfg)], cwd=ROOT,
                                      env=bench._env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:  # all warmed up
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "READY":
            raise RuntimeError(f"fan-out child failed to start: {line}{proc.stderr.read() if proc.stderr else ''}")
    sim_cpu0 = sim.cpu_seconds()
    go.touch()
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"fan-out child failed ({proc.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
        outs.append(json.loads(lines[-1][len("RESULT "):]))
    for db in dbs:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    counts: Counter[str] = Counter()
    for o in outs:
        counts.update(o["counts"])
    return {"workers": workers, "instances": size, "wall": max(o["end"] for o in outs) - min(o["start"] for o in outs),
            "cpu": sum(o["cpu"] for o in outs), "sim_cpu": sim.cpu_seconds() - sim_cpu0, "counts": dict(counts),
            "waited": waited}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, plus the spread of all runs."""
    ordered = sorted(runs, key=lambda r: r["wall"])
    mid = dict(ordered[len(ordered) // 2])
    mid["walls"] = [round(r["wall"], 3) for r in runs]
    mid["cpus"] = [round(r["cpu"], 3) for r in runs]
    return mid


def bound(instances: int, calls: int, latency_ms: float, concurrency: int) -> float:
    return instances * calls * latency_ms / 1000 / concurrency


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "load_before": [round(x, 2) for x in load],
            "python": platform.python_version(), "kernel": platform.release()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "conditions": {
        "calls_per_instance": CALLS_PER_INSTANCE, "concurrency": args.concurrency, "latency_ms": args.latency_ms,
        "repeat": args.repeat, "timeout": args.timeout, "fault_timeout": args.fault_timeout,
        "faulty_fraction": args.faulty, "server_processes": args.server_processes}, "rows": []}
    with tempfile.TemporaryDirectory(prefix="harborops-bench-") as tmp:
        work = Path(tmp)
        bench = Bench(args, work)
        pki: Pki | None = None
        for transport in args.transports:
            if transport == "tls":
                pki = make_pki(work / "pki")
            for size in args.sizes:
                with SimFleet(instances=size, latency_ms=args.latency_ms, pki=pki if transport == "tls" else None,
                              processes=args.server_processes) as sim:
                    for client in args.clients:
                        runs = [bench.measure(client, sim, timeout=args.timeout) for _ in range(args.repeat)]
                        _row(results, args, transport, size, client, median_run(runs))
                if args.faulty > 0:
                    faulty = faulty_layout(size, args.faulty)
                    with SimFleet(instances=size, latency_ms=args.latency_ms, faulty=faulty,
                                  pki=pki if transport == "tls" else None, processes=args.server_processes) as sim:
                        runs = [bench.measure("harborops", sim, timeout=args.fault_timeout) for _ in range(args.repeat)]
                        row = median_run(runs)
                        row["faulty"] = dict(Counter(faulty.values()))
                        _row(results, args, transport, size, "harborops, 10 % faulty", row)
            if args.profile:
                size = max(args.sizes)
                with SimFleet(instances=size, latency_ms=args.latency_ms, pki=pki if transport == "tls" else None,
                              processes=args.server_processes) as sim:
                    for client in args.clients:
                        sys.stderr.write(f"\n===== cProfile: {client}, {transport}, {size} instances =====\n")
                        bench.measure(client, sim, timeout=args.timeout, profile=True)
        for transport in args.transports if args.big else []:
            # The scale row: harborops alone at --big instances (one chunk), for CPU per instance and memory.
            with SimFleet(instances=args.big, latency_ms=args.latency_ms, pki=pki if transport == "tls" else None,
                          processes=args.server_processes) as sim:
                runs = [bench.measure("harborops", sim, timeout=args.timeout) for _ in range(args.repeat)]
                _row(results, args, transport, args.big, "harborops", median_run(runs))
        if args.fanout:
            results["fanout"] = []
            with SimFleet(instances=args.fanout, latency_ms=args.latency_ms, processes=args.server_processes) as sim:
                for workers in (1, 2):
                    runs = [measure_fanout(bench, sim, workers=workers, size=args.fanout, timeout=args.timeout)
                            for _ in range(args.repeat)]
                    row = median_run(runs)
                    results["fanout"].append(row)
                    sys.stderr.write(f"fan-out {args.fanout} instances, {workers} worker(s): wall {row['wall']:.2f}s "
                                     f"cpu {row['cpu']:.2f}s simulator {row['sim_cpu']:.2f}s {row['counts']}\n")
    results["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _row(results: dict[str, Any], args: argparse.Namespace, transport: str, size: int, client: str,
         r: dict[str, Any]) -> None:
    b = bound(size, CALLS_PER_INSTANCE, args.latency_ms, args.concurrency)
    r.update({"transport": transport, "instances": size, "client": client, "bound": b})
    results["rows"].append(r)
    sys.stderr.write(f"{transport:4} {size:5} {client:24} wall {r['wall']:.2f}s ({r['wall'] / b:.2f}x bound) "
                     f"cpu {r['cpu']:.2f}s {1e6 * r['poll_cpu'] / max(1, r['calls']):.0f}us/call "
                     f"peak {r['peak_rss_kib'] / 1024:.0f} MiB; simulator cpu {r['sim_cpu']:.2f}s, "
                     f"others {r['others_cpu']:.2f}s, waited {r['waited']:.0f}s\n")


def markdown(results: dict[str, Any]) -> str:
    c = results["conditions"]
    m = results["machine"]
    rows = results["rows"]
    out = [
        f"Machine: {m['cpus']} CPUs ({m['cpu_model'] or 'unknown model'}), Linux {m['kernel']}, Python {m['python']}; "
        f"load average {m['load_before'][0]} before / {m['load_after'][0]} after. {c['calls_per_instance']} calls per "
        f"instance, {c['concurrency']} in flight, {c['latency_ms']:g} ms latency; median of {c['repeat']} runs by wall "
        f"time (all runs' wall times in brackets); simulator in {c['server_processes']} separate processes.",
        "",
        "| transport | instances | client | wall s | × bound | CPU µs/call | CPU s: poll / total | record s "
        "| simulator CPU s | others' CPU s | peak RSS MiB (+Δ) | calls |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        record = f"{r['record_wall']:.2f}" if "record_wall" in r else "–"
        calls = r["calls"]
        out.append(
            f"| {r['transport']} | {r['instances']:,} | {r['client']} | {r['wall']:.2f} {r['walls']} | "
            f"{r['wall'] / r['bound']:.2f} (bound {r['bound']:.2f}) | {1e6 * r['poll_cpu'] / max(1, calls):.0f} | "
            f"{r['poll_cpu']:.2f} / {r['cpu']:.2f} | {record} | {r['sim_cpu']:.2f} | {r['others_cpu']:.2f} | "
            f"{r['peak_rss_kib'] / 1024:.0f} (+{(r['peak_rss_kib'] - r['rss_before_kib']) / 1024:.0f}) | {calls:,} |")
    faulty = [r for r in rows if "faulty" in r]
    if faulty:
        out += ["", f"Faulty runs (sweep timeout {c['fault_timeout']:g} s per call): how long one probe took, by "
                "outcome, in seconds (p50 / p95 / max, count), next to the same fleet all healthy.", "",
                "| transport | instances | faulty | wall s | healthy run: wall s, probe p50 / p95 "
                "| outcome: p50 / p95 / max (n) |",
                "|---|---:|---|---:|---|---|"]
        for r in faulty:
            dist = "; ".join(f"{k}: {d['p50']:.2f} / {d['p95']:.2f} / {d['max']:.2f} ({d['n']})"
                             for k, d in sorted(r["probe_seconds"].items()) if d.get("n"))
            kinds = ", ".join(f"{v} {k}" for k, v in sorted(r["faulty"].items()))
            base = _find(rows, r["transport"], r["instances"], "harborops")
            healthy = (f"{base['wall']:.2f}, {base['probe_seconds']['up']['p50']:.2f} / "
                       f"{base['probe_seconds']['up']['p95']:.2f}") if base and "up" in base["probe_seconds"] else "–"
            out.append(f"| {r['transport']} | {r['instances']:,} | {kinds} | {r['wall']:.2f} | {healthy} | {dist} |")
    fan = results.get("fanout") or []
    if fan:
        out += ["", "Fan-out: the same instances in 2 chunks (HTTP), polled by 1 worker process (one chunk after the "
                "other) or 2 (one chunk each, started together); wall = first start to last end.", "",
                "| workers | instances | wall s | CPU s (all workers) | simulator CPU s | outcome |",
                "|---:|---:|---:|---:|---:|---|"]
        for r in fan:
            out.append(f"| {r['workers']} | {r['instances']:,} | {r['wall']:.2f} {r['walls']} | {r['cpu']:.2f} | "
                       f"{r['sim_cpu']:.2f} | {', '.join(f'{v} {k}' for k, v in sorted(r['counts'].items()))} |")
    out += ["", "Goals:", ""] + [f"- {line}" for line in verdicts(results)]
    return "\n".join(out) + "\n"


def _find(rows: list[dict[str, Any]], transport: str, size: int, client: str) -> dict[str, Any] | None:
    return next((r for r in rows if (r["transport"], r["instances"], r["client"]) == (transport, size, client)), None)


def verdicts(results: dict[str, Any]) -> list[str]:
    rows = results["rows"]
    c = results["conditions"]
    out = []
    for r in rows:
        if r["client"] != "harborops" or r["instances"] != max(x["instances"] for x in rows):
            continue
        ratio = r["wall"] / r["bound"]
        floor = (r["poll_cpu"] + r["sim_cpu"]) / (results["machine"]["cpus"] or 1)
        out.append(f"{r['transport']}, {r['instances']:,} instances: wall {r['wall']:.2f} s = {ratio:.2f}× the bound "
                   f"({'meets' if ratio <= 1.2 else 'misses'} ≤ 1.2×); the sweep's and the simulator's CPU alone "
                   f"need {floor:.2f} s on {results['machine']['cpus']} CPUs.")
        other = _find(rows, r["transport"], r["instances"], "harborapi")
        if other:
            ours, theirs = r["poll_cpu"] / max(1, r["calls"]), other["poll_cpu"] / max(1, other["calls"])
            out.append(f"{r['transport']}, {r['instances']:,} instances: CPU per call {1e6 * ours:.0f} µs vs harborapi "
                       f"{1e6 * theirs:.0f} µs ({'meets' if ours < theirs else 'misses'}: {theirs / ours:.2f}× less).")
    for transport in sorted({r["transport"] for r in rows}):
        ours, floor = _find(rows, transport, 1000, "harborops"), _find(rows, transport, 1000, "aiohttp")
        if ours and floor:
            a, b = ours["poll_cpu"] / max(1, ours["calls"]), floor["poll_cpu"] / max(1, floor["calls"])
            out.append(f"{transport}, 1,000 instances: CPU per call {1e6 * a:.0f} µs vs the aiohttp floor's "
                       f"{1e6 * b:.0f} µs = {a / b:.2f}× ({'meets' if a / b <= 1.3 else 'misses'} ≤ 1.3×); wall "
                       f"{ours['wall'] / ours['bound']:.2f}× the bound vs the floor's "
                       f"{floor['wall'] / floor['bound']:.2f}× in the same run.")
        big = [r for r in rows if r["transport"] == transport and r["client"] == "harborops" and r["instances"] > 1000]
        if ours and big:
            r = big[-1]
            per_big, per_1k = r["cpu"] / r["instances"], ours["cpu"] / ours["instances"]
            growth = (r["peak_rss_kib"] - r["rss_before_kib"]) / 1024
            out.append(f"{transport}, {r['instances']:,} instances: CPU per instance {1e6 * per_big:.0f} µs vs "
                       f"{1e6 * per_1k:.0f} µs at 1,000 ({per_big / per_1k - 1:+.0%}: "
                       f"{'meets' if per_big <= per_1k * 1.1 else 'misses'} within 10 %); peak RSS "
                       f"{r['peak_rss_kib'] / 1024:.0f} MiB = Django's {r['rss_before_kib'] / 1024:.0f} MiB "
                       f"+ {growth:.0f} MiB ({'meets' if growth <= 60 else 'misses'} ≤ + 60 MiB).")
    fan = {r["workers"]: r for r in results.get("fanout") or []}
    if 1 in fan and 2 in fan:
        out.append(f"fan-out, {fan[1]['instances']:,} instances in 2 chunks: 2 workers {fan[2]['wall']:.2f} s vs 1 "
                   f"worker {fan[1]['wall']:.2f} s = {fan[1]['wall'] / fan[2]['wall']:.2f}× faster (the sweep's "
                   f"{fan[2]['cpu']:.2f} s and the simulator's {fan[2]['sim_cpu']:.2f} s of CPU share "
                   f"{results['machine']['cpus']} CPUs).")
    for r in rows:
        if "faulty" not in r:
            continue
        worst = max((d["max"] for k, d in r["probe_seconds"].items() if k not in ("up", "degraded") and d.get("n")),
                    default=0.0)
        base = _find(rows, r["transport"], r["instances"], "harborops")
        # One timeout plus connection setup and scheduling; a retry would make it 2x.
        limit = c["fault_timeout"] * 1.3
        out.append(f"{r['transport']}, {r['instances']:,} instances, faulty: the slowest faulty probe took "
                   f"{worst:.2f} s against a {c['fault_timeout']:g} s timeout "
                   f"({'meets' if worst <= limit else 'misses'} ≤ 1.3× the timeout); wall "
                   f"{r['wall']:.2f} s" + (f" vs {base['wall']:.2f} s all healthy." if base else "."))
    return out


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--sizes", default="100,300,1000", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--transports", default="http,tls", type=lambda s: s.split(","))
    p.add_argument("--clients", default="harborops,harborapi,aiohttp", type=lambda s: s.split(","))
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3, help="runs per row; the median (by wall time) is reported")
    p.add_argument("--timeout", type=float, default=10.0, help="per-call timeout of the healthy runs (s)")
    p.add_argument("--fault-timeout", type=float, default=2.0, help="per-call timeout of the faulty runs (s)")
    p.add_argument("--faulty", type=float, default=0.1, help="fraction of faulty instances (0 = skip those runs)")
    p.add_argument("--server-processes", type=int, default=2, help="simulator processes")
    p.add_argument("--quiet-wait", type=float, default=60.0,
                   help="before each run, wait up to this long for the machine to be 85 %% idle (0 = don't)")
    p.add_argument("--big", type=int, default=5000,
                   help="also sweep this many instances with harborops alone (the scale rows; 0 = skip)")
    p.add_argument("--fanout", type=int, default=1000,
                   help="2 worker processes vs 1 sweeping this many instances in 2 chunks, HTTP (0 = skip)")
    p.add_argument("--profile", action="store_true", help="also cProfile each client at the largest size (stderr)")
    p.add_argument("--json", type=Path, help="write the raw results here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        child_main(json.loads(args.child))
        return 0
    results = run(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.stdout.write(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
