"""`python -m harborops.harbor_sim`: serve a simulated fleet until interrupted.

The Django `manage.py harbor_sim` command wraps `build_fleet()` + `run()` with the same options.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from typing import TextIO

from harborops.harbor_sim.clock import Clock, ScaledClock
from harborops.harbor_sim.faults import Latency
from harborops.harbor_sim.fleet import Fleet
from harborops.harbor_sim.server import SimServer, ssl_context


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harborops.harbor_sim", description=__doc__)
    p.add_argument("--instances", type=int, default=1, help="number of simulated Harbors")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8780, help="port (first port with --per-instance-ports); 0 = any")
    p.add_argument("--per-instance-ports", action="store_true", help="one port per instance instead of /h/<n>")
    p.add_argument("--version", default="2.13.0", help="Harbor version, or a comma list cycled over instances")
    p.add_argument("--admin-password", default="Harbor12345")
    p.add_argument("--latency-ms", type=float, default=0.0, help="fixed added latency per request")
    p.add_argument("--seed-audit", type=int, default=0, help="generated audit events per instance")
    p.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second (jobs)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--ldap-url", help="a real LDAP server (e.g. ldap://127.0.0.1:3389) instead of the in-memory one")
    p.add_argument("--ldap-bind-dn", default="", help="with --ldap-url: search DN")
    p.add_argument("--ldap-bind-password", default="", help="with --ldap-url: search DN password")
    p.add_argument("--ldap-base-dn", default="", help="with --ldap-url: user search base")
    p.add_argument("--ldap-group-base-dn", default="", help="with --ldap-url: group search base")
    return p


def build_fleet(
    *,
    instances: int,
    version: str,
    admin_password: str = "Harbor12345",  # noqa: S107 - Harbor's documented default
    latency_ms: float = 0.0,
    seed_audit: int = 0,
    time_scale: float = 1.0,
) -> Fleet:
    clock: Clock = ScaledClock(time_scale)
    fleet = Fleet.create(instances, [v.strip() for v in version.split(",")], clock=clock, admin_password=admin_password)
    for inst in fleet:
        if latency_ms:
            inst.faults.latency = Latency("fixed", latency_ms)
        if seed_audit:
            inst.seed_audit(seed_audit)
    return fleet


def describe(server: SimServer, admin_password: str) -> list[str]:
    lines = []
    for i, inst in enumerate(server.fleet, start=1):
        lines.append(f"{inst.name}  v{inst.version}  {server.instance_url(i)}  admin / {admin_password}")
    return lines


def run(args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None) -> int:
    if bool(args.tls_cert) != bool(args.tls_key):
        out.write("--tls-cert and --tls-key go together\n")
        return 2
    fleet = build_fleet(
        instances=args.instances,
        version=args.version,
        admin_password=args.admin_password,
        latency_ms=args.latency_ms,
        seed_audit=args.seed_audit,
        time_scale=args.time_scale,
    )
    if getattr(args, "ldap_url", None):
        from harborops.harbor_sim.ldap_backend import use_ldap_server

        use_ldap_server(fleet, url=args.ldap_url, bind_dn=args.ldap_bind_dn, bind_password=args.ldap_bind_password,
                        base_dn=args.ldap_base_dn, group_base_dn=args.ldap_group_base_dn)
    tls = ssl_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    server = SimServer(fleet, args.host, args.port, ssl=tls, per_instance_ports=args.per_instance_ports).start()
    for line in describe(server, args.admin_password):
        out.write(line + "\n")
    out.flush()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    return run(parser().parse_args(argv), sys.stdout)
