"""Serve a simulated fleet from child processes, so the simulator's CPU never counts as the client's.

    with SimFleet(instances=1000, latency_ms=50, faulty={3: "timeout"}, tls=pki, processes=2) as sim:
        sim.url(3)      # "https://127.0.0.1:PORT/h/3"

Each server process serves the whole fleet (same versions, same faults) behind one port; instance n
is reached through process n % processes, so the load is spread without the instances' state
mattering (the sweep only reads). ``python -m bench.simserve CONFIG_JSON`` is the child's entry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.pki import Pki

ROOT = Path(__file__).resolve().parent.parent
VERSION = "2.6.0"  # no /jobservice API yet: the probe makes exactly 4 calls (health, systeminfo, volumes, statistics)
ADMIN = ("admin", "Harbor12345")
FAULT_KINDS = ("timeout", "5xx", "garbage", "401")


def faults_for(kind: str, latency_ms: float) -> Any:
    from harborops.harbor_sim import Faults, Latency

    lat = Latency("fixed", latency_ms) if latency_ms else None
    if kind == "timeout":
        return Faults(latency=lat, hang_rate=1.0)  # never answers: the client's timeout decides
    if kind == "5xx":
        return Faults(latency=lat, error_rate=1.0)
    if kind == "garbage":
        return Faults(latency=lat, malformed_rate=1.0)  # 200 with half a JSON body
    if kind == "401":
        return Faults(latency=lat, force_status=401)
    raise ValueError(kind)


def faulty_layout(instances: int, fraction: float) -> dict[int, str]:
    """Every (1/fraction)-th instance is faulty, the kinds taking turns: spread over the fleet."""
    if fraction <= 0:
        return {}
    step = max(1, round(1 / fraction))
    return {n: FAULT_KINDS[i % len(FAULT_KINDS)] for i, n in enumerate(range(step, instances + 1, step))}


def _serve(config: dict[str, Any]) -> None:
    """Child process: build the fleet, bind, print the port, serve until stdin closes or SIGTERM."""
    from harborops.harbor_sim import Fleet, Latency, SimServer
    from harborops.harbor_sim.server import ssl_context

    fleet = Fleet.create(config["instances"], config["version"], admin_password=ADMIN[1])
    for inst in fleet:
        if config["latency_ms"]:
            inst.faults.latency = Latency("fixed", config["latency_ms"])
    for n, kind in config["faulty"].items():
        fleet[int(n)].faults = faults_for(kind, config["latency_ms"])
    tls = ssl_context(config["cert"], config["key"]) if config.get("cert") else None
    server = SimServer(fleet, config["host"], 0, ssl=tls).start()
    sys.stdout.write(json.dumps({"port": server.ports[0]}) + "\n")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def wait_for_eof() -> None:  # the parent closes our stdin to stop us
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    done.wait()
    server.stop()


class SimFleet:
    def __init__(self, *, instances: int, latency_ms: float = 50.0, faulty: dict[int, str] | None = None,
                 pki: Pki | None = None, processes: int = 1, host: str = "127.0.0.1",
                 version: str = VERSION) -> None:
        self.instances = instances
        self.pki = pki
        self.host = host
        self.config: dict[str, Any] = {
            "instances": instances, "version": version, "latency_ms": latency_ms, "host": host,
            "faulty": {str(n): k for n, k in (faulty or {}).items()},
            "cert": str(pki.server_cert) if pki else None, "key": str(pki.server_key) if pki else None,
        }
        self.processes = max(1, processes)
        self.ports: list[int] = []
        self._procs: list[subprocess.Popen[str]] = []

    @property
    def scheme(self) -> str:
        return "https" if self.pki else "http"

    def url(self, n: int) -> str:
        return f"{self.scheme}://{self.host}:{self.ports[n % len(self.ports)]}/h/{n}"

    def start(self) -> SimFleet:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for _ in range(self.processes):
            proc = subprocess.Popen([sys.executable, "-m", "bench.simserve", json.dumps(self.config)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
            self._procs.append(proc)
        for proc in self._procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                self.stop()
                raise RuntimeError("simulator process failed to start")
            self.ports.append(int(json.loads(line)["port"]))
        self._warm_up()
        return self

    def _warm_up(self) -> None:
        """One round of the sweep's calls on every server process: its routes and swagger are loaded
        lazily on the first request, which must not land inside a measurement."""
        import ssl

        import httpx

        verify = ssl.create_default_context(cadata=self.pki.ca_pem) if self.pki else True
        with httpx.Client(auth=ADMIN, verify=verify, timeout=30) as c:
            for i in range(len(self.ports)):
                n = next((m for m in range(1, self.instances + 1) if m % len(self.ports) == i
                          and str(m) not in self.config["faulty"]), None)
                if n is None:
                    continue
                for path in ("/health", "/systeminfo", "/systeminfo/volumes", "/statistics"):
                    c.get(self.url(n) + "/api/v2.0" + path)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the simulator processes have used so far."""
        total = 0
        for proc in self._procs:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        for proc in self._procs:
            if proc.stdin is not None:
                proc.stdin.close()  # the child's stdin reader ends it
        for proc in self._procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()  # by pid: only our own child
                proc.wait()
        self._procs.clear()

    def __enter__(self) -> SimFleet:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
