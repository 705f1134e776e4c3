"""The living demo: simulated people keep working on the demo Harbors while ``manage.py demo`` runs.

Every round (``tick`` seconds, 20 by default) each reachable Harbor sees, with some probability, one
push, pull, delete or portal login by one of a few people — written through the simulator's own
event recording, so the scheduled audit ingest finds new events every minute (logins only on 2.13+,
as Harbor records them). Pushes make storage grow (deletes free nothing until a GC runs). One instance
(``FLAPPING``) goes down for ``outage_for`` seconds out of every ``outage_every``, so the home page
shows an alert firing and resolving: with the default hysteresis (3 failed sweeps, 2 good ones) a
five-minute outage is long enough to alert.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

from harborops.harbor_sim import Fleet, HarborInstance
from harborops.harbor_sim.activity import log_in, pull
from harborops.harbor_sim.http import HarborError
from harborops.harbor_sim.routes.artifacts import delete_artifact_by_ref, push_artifact
from harborops.harbor_sim.routes.projects import create_project

logger = logging.getLogger(__name__)

PEOPLE = ("ana", "ben", "chen", "dana")
PROJECT = "apps"
REPOS = ("web", "api", "worker", "billing")
FLAPPING = "demo-eu-dev"
MIB = 1024**2
FULL = 0.97  # above this share of the volume, people stop pushing (and delete instead)


class Activity:
    """Call :meth:`step` yourself (tests) or :meth:`start` a daemon thread that calls it every ``tick``."""

    def __init__(self, fleet: Fleet, *, tick: float = 20.0, busy: float = 0.6, outage_every: float = 600.0,
                 outage_for: float = 300.0, seed: int | None = None, flapping: str = FLAPPING) -> None:
        self.fleet, self.tick, self.busy = fleet, tick, busy
        self.outage_every, self.outage_for = outage_every, outage_for
        self.rng = random.Random(seed)  # noqa: S311 - simulated people, not secrets
        self.stats: Counter[str] = Counter()
        self.flapping = next((i for i in fleet if i.name == flapping), None)
        self._versions: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prepared = False

    # --- setup -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """A project with a few repositories and the people on every Harbor (idempotent)."""
        for inst in self.fleet:
            with inst.lock:
                if inst.store.project_by_name(PROJECT) is None:
                    create_project(inst, PROJECT, owner=inst.admin, audit=False)
                for person in PEOPLE:
                    if inst.store.user_by_name(person) is None:
                        inst.add_user(person)
            for repo in REPOS:
                if not self._artifacts(inst, repo):
                    self._push(inst, repo, PEOPLE[0])
        self._prepared = True

    # --- one round -------------------------------------------------------------------------------
    def step(self, elapsed: float) -> None:
        """One round at ``elapsed`` seconds since the start: the outage schedule, then the people."""
        if not self._prepared:
            self.prepare()
        self._outage(elapsed)
        for inst in self.fleet:
            if inst.faults.error_rate >= 1.0:
                continue  # nobody gets through to a Harbor that is down
            if self.rng.random() < self.busy:
                self._act(inst)

    def _outage(self, elapsed: float) -> None:
        inst = self.flapping
        if inst is None or self.outage_every <= 0:
            return
        down = elapsed % self.outage_every >= self.outage_every - self.outage_for
        if down != inst.down:
            inst.down = down  # replication to and from it fails too
            inst.faults.error_rate = 1.0 if down else 0.0
            self.stats["outages" if down else "recoveries"] += 1
            logger.info("demo activity: %s is %s", inst.name, "down" if down else "back up")

    def _act(self, inst: HarborInstance) -> None:
        person = self.rng.choice(PEOPLE)
        repo = self.rng.choice(REPOS)
        actions: dict[str, Callable[[], None]] = {
            "pushes": lambda: self._push(inst, repo, person),
            "pulls": lambda: self._pull(inst, repo, person),
            "deletes": lambda: self._delete(inst, repo, person),
            "logins": lambda: log_in(inst, person),
        }
        kind = self.rng.choices(list(actions), weights=(35, 35, 10, 20))[0]
        if kind == "pushes" and self._used(inst) >= FULL:
            kind = "deletes"
        try:
            actions[kind]()
        except HarborError as exc:  # quota, nothing left to pull: people shrug and carry on
            logger.debug("demo activity on %s: %s", inst.name, exc)
            return
        self.stats[kind] += 1

    # --- actions ---------------------------------------------------------------------------------
    def _artifacts(self, inst: HarborInstance, repo: str) -> list[tuple[str, str, list[str]]]:
        """(repository name, digest, tags) of the artifacts in ``apps/<repo>``."""
        name = f"{PROJECT}/{repo}"
        with inst.lock:
            r = next((x for x in inst.store.repositories.values() if x.name == name), None)
            return [] if r is None else [(r.name, a.digest, [t.name for t in a.tags]) for a in r.artifacts.values()]

    def _used(self, inst: HarborInstance) -> float:
        with inst.lock:
            return (inst.store.live_bytes() + inst.store.garbage_bytes) / inst.storage_total

    def _push(self, inst: HarborInstance, repo: str, person: str) -> None:
        n = self._versions[id(inst)] = self._versions.get(id(inst), 0) + 1
        push_artifact(inst, PROJECT, repo, f"1.{n}", self.rng.randint(20, 200) * MIB, who=person)

    def _pull(self, inst: HarborInstance, repo: str, person: str) -> None:
        tagged = [(name, tags[0]) for name, _digest, tags in self._artifacts(inst, repo) if tags]
        if not tagged:
            raise HarborError(404, f"nothing to pull in {PROJECT}/{repo}")
        name, tag = self.rng.choice(tagged)
        pull(inst, name, tag, who=person)

    def _delete(self, inst: HarborInstance, repo: str, person: str) -> None:
        arts = self._artifacts(inst, repo)
        if len(arts) < 2:
            raise HarborError(404, f"keeping the last artifact of {PROJECT}/{repo}")
        name, digest, _tags = self.rng.choice(arts[:-1])  # never the newest
        with inst.lock:
            delete_artifact_by_ref(inst, name, digest, who=person)

    # --- the thread ------------------------------------------------------------------------------
    def start(self) -> Activity:
        started = time.monotonic()

        def loop() -> None:
            while not self._stop.wait(self.tick):
                try:
                    self.step(time.monotonic() - started)
                except Exception:  # the demo keeps living whatever one round trips over
                    logger.exception("demo activity round failed")

        self.prepare()
        self._thread = threading.Thread(target=loop, name="demo-activity", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.flapping is not None and self.flapping.down:
            self._outage(0.0)  # leave the Harbor up

    def describe(self) -> str:
        outage = (f"; {self.flapping.name} goes down for {self.outage_for / 60:g} min out of every "
                  f"{self.outage_every / 60:g}" if self.flapping is not None and self.outage_every > 0 else "")
        return f"demo activity: people push, pull, delete and log in every {self.tick:g} s" + outage

    def summary(self) -> str:
        s = self.stats
        return (f"demo activity: {s['pushes']} pushes, {s['pulls']} pulls, {s['deletes']} deletes, "
                f"{s['logins']} logins; {s['outages']} outage(s) of {self.flapping.name if self.flapping else '-'}")
