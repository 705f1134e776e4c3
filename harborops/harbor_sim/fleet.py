"""Many simulated Harbors behind one entry point: `/h/<n>/api/v2.0/...` selects instance n (1-based)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from harborops.harbor_sim.clock import Clock, ManualClock
from harborops.harbor_sim.http import JSON_TYPE, SimRequest, SimResponse, error_body
from harborops.harbor_sim.instance import HarborInstance


class Fleet:
    """A list of instances sharing one clock. Also usable with a single instance and no prefix."""

    def __init__(self, instances: Sequence[HarborInstance] = (), *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or (instances[0].clock if instances else ManualClock())
        self.instances: list[HarborInstance] = []
        # Replication moves state between instances, so they share one lock (no lock-order deadlocks).
        self.lock = threading.RLock()
        self.urls: dict[str, HarborInstance] = {}  # registry endpoint URL -> instance (bind_url)
        self.active: set[HarborInstance] = set()  # instances with replication work to settle
        for inst in instances:
            self.add(inst)

    @classmethod
    def create(
        cls, count: int, version: str | Sequence[str] = "2.13.0", *, clock: Clock | None = None, **options: Any
    ) -> Fleet:
        """`count` instances; `version` may be a list, cycled over the instances."""
        clock = clock or ManualClock()
        versions = [version] if isinstance(version, str) else list(version)
        insts = [
            HarborInstance(versions[i % len(versions)], name=f"harbor-{i + 1}", clock=clock, **options)
            for i in range(count)
        ]
        return cls(insts, clock=clock)

    def add(self, inst: HarborInstance) -> int:
        self.instances.append(inst)
        inst.lock = self.lock
        inst.fleet = self
        return len(self.instances)

    def bind_url(self, url: str, inst: HarborInstance) -> None:
        """A registry endpoint with this URL (any path/trailing slash aside) is `inst` (replication)."""
        self.urls[url.rstrip("/")] = inst

    def instance_at(self, url: str) -> HarborInstance | None:
        return self.urls.get(url.rstrip("/"))

    def __getitem__(self, n: int) -> HarborInstance:
        """Instance n, 1-based like the URL."""
        if n < 1:
            raise IndexError(n)
        return self.instances[n - 1]

    def __len__(self) -> int:
        return len(self.instances)

    def __iter__(self) -> Iterator[HarborInstance]:
        return iter(self.instances)

    @staticmethod
    def prefix(n: int) -> str:
        return f"/h/{n}"

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def resolve(self, path: str) -> tuple[HarborInstance, str] | None:
        """(instance, path prefix) for a raw request path."""
        if path.startswith("/h/"):
            num, _, _rest = path[3:].partition("/")
            if num.isdigit() and 1 <= int(num) <= len(self.instances):
                return self.instances[int(num) - 1], f"/h/{num}"
            return None
        if len(self.instances) == 1:
            return self.instances[0], ""
        return None

    def handle(self, req: SimRequest) -> SimResponse:
        hit = self.resolve(req.path)
        if hit is None:
            return SimResponse(404, [("Content-Type", JSON_TYPE)], error_body(404, "no such simulated instance"))
        inst, prefix = hit
        return inst.handle(req, prefix)


Simulator = Fleet
