"""Per-policy health from its executions: plain functions over plain values (no queries here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from harborops.replication import cron as cronlib


class ExecutionLike(Protocol):
    status: str
    trigger: str
    start_time: datetime | None
    end_time: datetime | None


@dataclass
class Thresholds:
    stuck_after: timedelta = timedelta(minutes=60)  # InProgress longer than this is stuck
    lag_after: timedelta = timedelta(hours=26)  # scheduled policy: no success for this long
    schedule_grace: timedelta = timedelta(minutes=15)  # a scheduled run may start this late
    missed_window: timedelta = timedelta(days=1)  # look for missed runs this far back


@dataclass
class Health:
    health: str
    reason: str
    last_status: str = ""
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    failure_rate_24h: float | None = None
    failure_rate_7d: float | None = None
    stuck: list[ExecutionLike] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)
    overlapping: bool = False


def _rate(execs: Sequence[ExecutionLike], since: datetime) -> float | None:
    done = [e for e in execs if e.start_time and e.start_time >= since and e.status in ("Succeed", "Failed")]
    if not done:
        return None
    return sum(e.status == "Failed" for e in done) / len(done)


def missed_runs(cron: str, execs: Sequence[ExecutionLike], *, since: datetime, now: datetime,
                grace: timedelta) -> list[datetime]:
    """Cron fire times in (since, now - grace] with no scheduled execution starting within `grace` after."""
    try:
        due = cronlib.fire_times(cron, since, now - grace)
    except ValueError:
        return []
    starts = sorted(e.start_time for e in execs if e.trigger == "scheduled" and e.start_time)
    return [t for t in due if not any(t - timedelta(seconds=5) <= s <= t + grace for s in starts)]


def overlapping(execs: Sequence[ExecutionLike], now: datetime) -> bool:
    """Two executions of one policy running at the same time (start..end, or ..now while running)."""
    spans = sorted((e.start_time, e.end_time or now) for e in execs if e.start_time is not None
                   and (e.end_time is not None or e.status == "InProgress"))
    latest_end: datetime | None = None
    for start, end in spans:
        if latest_end is not None and start < latest_end:
            return True
        latest_end = end if latest_end is None else max(latest_end, end)
    return False


def compute(*, enabled: bool, trigger_type: str, cron: str, policy_since: datetime | None,
            execs: Sequence[ExecutionLike], now: datetime, th: Thresholds) -> Health:
    """Roll one policy's executions (any order) into a health label, worst first:
    stuck > failing > lagging > healthy > never run > disabled."""
    ordered = sorted((e for e in execs if e.start_time), key=lambda e: e.start_time or now, reverse=True)
    last = ordered[0] if ordered else None
    success = next((e for e in ordered if e.status == "Succeed"), None)
    h = Health("", "", last_status=last.status if last else "", last_run_at=last.start_time if last else None,
               last_success_at=(success.end_time or success.start_time) if success else None,
               failure_rate_24h=_rate(ordered, now - timedelta(hours=24)),
               failure_rate_7d=_rate(ordered, now - timedelta(days=7)))
    h.stuck = [e for e in ordered if e.status == "InProgress" and e.start_time and now - e.start_time > th.stuck_after]
    h.overlapping = overlapping([e for e in ordered if e.start_time and e.start_time >= now - timedelta(days=7)], now)
    if enabled and trigger_type == "scheduled" and cron:
        since = max(now - th.missed_window, policy_since) if policy_since else now - th.missed_window
        h.missed = missed_runs(cron, ordered, since=since, now=now, grace=th.schedule_grace)
    finished = next((e for e in ordered if e.status in ("Succeed", "Failed", "Stopped")), None)
    if h.stuck:
        mins = int((now - (h.stuck[-1].start_time or now)).total_seconds() // 60)
        h.health, h.reason = "stuck", f"{len(h.stuck)} execution(s) in progress, the oldest for {mins} min"
    elif finished is not None and finished.status == "Failed":
        h.health, h.reason = "failing", "the last finished execution failed"
    elif h.missed:
        h.health, h.reason = "lagging", f"{len(h.missed)} scheduled run(s) did not happen"
    elif (enabled and trigger_type == "scheduled" and last is not None
          and (h.last_success_at is None or now - h.last_success_at > th.lag_after)):
        h.health, h.reason = "lagging", "no successful run within the lag threshold"
    elif not enabled:
        h.health, h.reason = "disabled", "the policy is disabled"
    elif last is None:
        h.health, h.reason = "never_run", "no executions yet"
    else:
        h.health, h.reason = "healthy", ""
    if h.overlapping and h.health == "healthy":
        h.reason = "executions overlapped in the last 7 days"
    return h
