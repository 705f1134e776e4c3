"""Per-instance fault injection: latency, 500s, hangs, malformed bodies, forced 401/403,
slow (trickled) bodies and connection resets.

HTTP-level faults (500, malformed, forced status) are applied by the core and so work in-process
too. Latency, hangs, trickles and resets are `Directive`s for the adapters: the socket server
honours all of them; the in-process transports raise httpx timeouts/read errors for hang/reset and
the async one sleeps for latency.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from harborops.harbor_sim.http import Directive, SimResponse, error_body

HANG_SECONDS = 3600.0


@dataclass(slots=True)
class Latency:
    """kind fixed: `a` ms; uniform: between `a` and `b` ms; normal: mean `a`, stddev `b` ms."""

    kind: str = "fixed"
    a: float = 0.0
    b: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.kind == "uniform":
            ms = rng.uniform(self.a, self.b)
        elif self.kind == "normal":
            ms = rng.gauss(self.a, self.b)
        else:
            ms = self.a
        return max(0.0, ms) / 1000.0


@dataclass(slots=True)
class Faults:
    latency: Latency | None = None
    error_rate: float = 0.0  # answer 500
    hang_rate: float = 0.0  # never answer
    malformed_rate: float = 0.0  # 200 with a body that is not JSON
    reset_rate: float = 0.0  # abort the TCP connection
    slow_body_rate: float = 0.0  # trickle the body
    slow_chunk: int = 16
    slow_interval: float = 0.2  # seconds between chunks
    force_status: int | None = None  # e.g. 401 or 403 on every matching request
    path_pattern: str | None = None  # regex on the API path (after /api/v2.0); None = everything
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _re: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)
        self._re = re.compile(self.path_pattern) if self.path_pattern else None

    @property
    def idle(self) -> bool:
        return not (
            self.latency
            or self.error_rate
            or self.hang_rate
            or self.malformed_rate
            or self.reset_rate
            or self.slow_body_rate
            or self.force_status
        )

    def applies(self, api_path: str) -> bool:
        return self._re is None or bool(self._re.search(api_path))

    def before(self, api_path: str) -> SimResponse | None:
        """A response that replaces the real one (forced status / injected 500), if any."""
        if self.force_status:
            code = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}.get(self.force_status)
            msg = "unauthorized" if self.force_status == 401 else "injected fault"
            return SimResponse(
                self.force_status, [("Content-Type", "application/json")], error_body(self.force_status, msg, code)
            )
        if self.error_rate and self._rng.random() < self.error_rate:
            return SimResponse(
                500, [("Content-Type", "application/json")], error_body(500, "internal server error (injected fault)")
            )
        return None

    def after(self, resp: SimResponse) -> SimResponse:
        """Malformed bodies and transport directives on the real response."""
        rng = self._rng
        if self.malformed_rate and rng.random() < self.malformed_rate:
            half = resp.body[: max(1, len(resp.body) // 2)]
            resp.body = b"<html><body><h1>502 Bad Gateway</h1></body></html>" if len(half) < 4 else half
        d = Directive()
        if self.latency:
            d.delay = self.latency.sample(rng)
        roll = rng.random()
        if roll < self.reset_rate:
            d.reset = True
        elif roll < self.reset_rate + self.hang_rate:
            d.hang = True
        elif self.slow_body_rate and rng.random() < self.slow_body_rate:
            d.trickle_chunk, d.trickle_interval = max(1, self.slow_chunk), self.slow_interval
        if d.active:
            resp.directive = d
        return resp
