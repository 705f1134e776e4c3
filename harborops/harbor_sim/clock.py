"""Simulated time. Jobs (GC, replication, purge) progress against a clock the tests can advance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Real time: the default for the CLI and demos."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> None:  # pragma: no cover - real time only moves by itself
        raise TypeError("the real clock cannot be advanced; use ManualClock in tests")


class ManualClock(Clock):
    """A clock that only moves when told to (`advance`). Thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


class ScaledClock(Clock):
    """Real time running `factor` times faster (demos: a 60 s GC done in 1 s with factor=60)."""

    def __init__(self, factor: float) -> None:
        self._factor = factor
        self._t0 = time.monotonic()
        self._start = datetime.now(UTC)
        self._offset = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self._factor + self._offset)

    def advance(self, seconds: float) -> None:
        self._offset += seconds


def iso(ts: datetime) -> str:
    """Harbor's JSON time format (RFC 3339, millisecond precision, `Z`)."""
    t = ts.astimezone(UTC) if ts.year > 1 else ts
    ms = t.microsecond // 1000
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{ms:03d}Z"
