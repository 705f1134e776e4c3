"""``manage.py demo``: a simulated demo fleet, registered in harborops, served until Ctrl-C.

Run it beside ``make run`` (same database): the fleet page fills within seconds. ``--remove``
takes the demo instances out of the inventory again."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harborops.alerts import demo as alerts_demo
from harborops.certificates import demo as certificates_demo
from harborops.certificates.services import scan
from harborops.core.actor import Actor
from harborops.fleet import demo
from harborops.fleet.demo_activity import Activity
from harborops.fleet.services import sweep
from harborops.harbor_sim.server import SimServer
from harborops.maintenance import demo as maintenance_demo
from harborops.replication import demo as replication_demo

ACTOR = Actor.system("manage.py demo")


class Command(BaseCommand):
    help = "Serve a demo fleet of simulated Harbors and register it in harborops (Ctrl-C stops the Harbors)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8790, help="0 = any free port")
        parser.add_argument("--remove", action="store_true", help="remove the demo instances and exit")
        parser.add_argument("--no-sweep", action="store_true", help="do not sweep once right away")
        parser.add_argument("--exit-after-setup", action="store_true", help=argparse_suppress())
        parser.add_argument("--activity-seconds", type=float, default=20.0,
                            help="seconds between rounds of simulated user activity (0 = a still demo)")
        parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (0 = Ctrl-C)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["remove"]:
            self.stdout.write(f"removed {demo.unregister(ACTOR)} demo instances")
            self.stdout.write(f"removed {certificates_demo.unregister(ACTOR)} demo TLS endpoints")
            self.stdout.write(f"removed {maintenance_demo.unregister(ACTOR)} demo GC policy")
            self.stdout.write(f"removed {alerts_demo.unregister(ACTOR)} demo alert routes, channels and silences")
            return
        server = SimServer(demo.build(), options["host"], options["port"]).start()
        tls_servers: list[SimServer] = []
        activity: Activity | None = None
        inbox: alerts_demo.Inbox | None = None
        try:
            instances = demo.register(server, ACTOR)
            self.stdout.write(f"demo fleet: {len(instances)} simulated Harbors on {server.base_url}")
            for inst in instances:
                self.stdout.write(f"  {inst.name:<18} {inst.url}")
            for line in replication_demo.start(server, ACTOR):
                self.stdout.write(line)
            for line in maintenance_demo.start(server, ACTOR):
                self.stdout.write(line)
            inbox, lines = alerts_demo.start(options["host"], ACTOR)
            for line in lines:
                self.stdout.write(line)
            tls_servers, endpoints = certificates_demo.start(options["host"], ACTOR)
            self.stdout.write(f"demo TLS: {len(endpoints)} simulated Harbors over TLS (certificates of the "
                              f"demo CA {certificates_demo.CA_NAME!r} spread over the expiry bands)")
            if not options["no_sweep"]:
                result = sweep.sweep_ids([i.pk for i in instances], timeout=5.0)
                self.stdout.write(f"first sweep: {result.summary()}")
                self.stdout.write(f"first certificate scan: {scan.scan_endpoints(endpoints, timeout=5.0).summary()}")
            self.stdout.write("open the dashboard's Fleet page; the scheduled sweep keeps it current. "
                              "Ctrl-C stops the simulated Harbors (they stay registered and turn 'down'; "
                              "`manage.py demo --remove` removes them).")
            self.stdout.flush()
            if options["exit_after_setup"]:
                return
            if options["activity_seconds"] > 0:
                activity = Activity(server.fleet, tick=options["activity_seconds"]).start()
                self.stdout.write(activity.describe())
                self.stdout.flush()
            stop = threading.Event()
            previous = {}
            if threading.current_thread() is threading.main_thread():
                previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
            stop.wait(options["run_for"] or None)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        finally:
            if activity is not None:
                activity.stop()
                self.stdout.write(activity.summary())
            for tls in tls_servers:
                tls.stop()
            if inbox is not None:
                inbox.stop()
            server.stop()


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS
