"""The health roll-up as plain functions: stuck, failing, lagging (missed scheduled runs), overlapping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from harborops.replication import cron
from harborops.replication.health import Thresholds, compute, overlapping

NOW = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)
TH = Thresholds()


@dataclass
class E:
    status: str
    start_time: datetime | None
    end_time: datetime | None = None
    trigger: str = "manual"


def ago(**kw: float) -> datetime:
    return NOW - timedelta(**kw)


def run(**kw: object) -> str:
    args: dict[str, object] = {"enabled": True, "trigger_type": "manual", "cron": "", "policy_since": None,
                               "execs": [], "now": NOW, "th": TH}
    args.update(kw)
    return compute(**args).health  # type: ignore[arg-type]


def test_it_ranks_stuck_over_failing_over_lagging() -> None:
    stuck = E("InProgress", ago(hours=3))
    failed = E("Failed", ago(hours=1), ago(minutes=59))
    assert run(execs=[stuck, failed]) == "stuck"
    assert run(execs=[failed]) == "failing"
    assert run(execs=[E("Succeed", ago(hours=2), ago(hours=2)), failed]) == "failing"
    assert run(execs=[failed, E("Succeed", ago(minutes=5), ago(minutes=4))]) == "healthy"
    assert run(execs=[E("InProgress", ago(minutes=20))]) == "healthy"  # running, under the threshold
    assert run(execs=[]) == "never_run"
    assert run(enabled=False, execs=[]) == "disabled"


def test_missed_scheduled_runs_make_a_policy_lag() -> None:
    hourly = "0 0 * * * *"
    on_time = [E("Succeed", NOW.replace(minute=0, second=0) - timedelta(hours=h), trigger="scheduled",
                 end_time=NOW.replace(minute=0, second=0) - timedelta(hours=h) + timedelta(minutes=1))
               for h in range(0, 24)]
    h = compute(enabled=True, trigger_type="scheduled", cron=hourly, policy_since=None, execs=on_time, now=NOW, th=TH)
    assert (h.health, h.missed) == ("healthy", [])
    gap = [e for i, e in enumerate(on_time) if i not in (3, 4)]
    h = compute(enabled=True, trigger_type="scheduled", cron=hourly, policy_since=None, execs=gap, now=NOW, th=TH)
    assert h.health == "lagging" and len(h.missed) == 2 and "2 scheduled run(s) did not happen" in h.reason
    # a policy created two hours ago is not blamed for earlier hours
    h = compute(enabled=True, trigger_type="scheduled", cron=hourly, policy_since=ago(hours=2), execs=on_time[:2],
                now=NOW, th=TH)
    assert h.missed == []


def test_no_success_within_the_lag_threshold_lags() -> None:
    old = E("Succeed", ago(days=3), ago(days=3), trigger="scheduled")
    assert run(trigger_type="scheduled", cron="0 0 3 * * 0", execs=[old]) in ("lagging",)


def test_overlapping_executions_are_flagged() -> None:
    a = E("Succeed", ago(hours=2), ago(hours=1))
    b = E("Succeed", ago(minutes=90), ago(minutes=80))
    assert overlapping([a, b], NOW) and not overlapping([a], NOW)
    assert overlapping([E("InProgress", ago(minutes=10)), E("Succeed", ago(minutes=5), ago(minutes=4))], NOW)


def test_failure_rates() -> None:
    h = compute(enabled=True, trigger_type="manual", cron="", policy_since=None, now=NOW, th=TH,
                execs=[E("Failed", ago(hours=1)), E("Succeed", ago(hours=2)), E("Succeed", ago(days=3)),
                       E("Failed", ago(days=5)), E("Succeed", ago(days=10))])
    assert h.failure_rate_24h == 0.5 and h.failure_rate_7d == 0.5


@pytest.mark.parametrize(("expr", "count"), [("0 */15 * * * *", 4), ("0 0 * * * *", 1), ("0 30 2 * * *", 0)])
def test_cron_fire_times(expr: str, count: int) -> None:
    t0 = datetime(2026, 3, 4, 10, 0, 0, tzinfo=UTC)
    assert len(cron.fire_times(expr, t0, t0 + timedelta(hours=1))) == count


def test_cron_rejects_bad_expressions() -> None:
    with pytest.raises(ValueError, match="not a 6-field cron"):
        cron.parse("* * * * *")
    with pytest.raises(ValueError, match="out of range"):
        cron.parse("0 99 * * * *")
