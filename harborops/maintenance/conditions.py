"""Alert conditions of garbage collection (contract: harborops/core/conditions.py): the watchdog's
findings (services/watchdog.py) over what the last GC check and harborops' own runs stored, one
occurrence per instance and finding, as ``gc.<code>``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse

from harborops.core.conditions import Occurrence, Severity, conditions
from harborops.maintenance.services.watchdog import CONDITIONS, JOBSERVICE_LIMIT_HOURS, Finding, overview

TITLES = {f"gc.{code}": title for code, title in CONDITIONS.items()}
SEVERITY: dict[str, Severity] = {
    "run_failed": "critical",
    "run_too_long": "warning",
    "schedule_lost": "critical",
    "schedule_drift": "warning",
    "scheduled_run_missed": "warning",
    "success_too_old": "warning",
    "window_overrun": "warning",
    "check_failed": "info",
}


def _severity(finding: Finding, running_hours: float | None) -> Severity:
    if finding.code == "run_too_long" and running_hours is not None and running_hours >= JOBSERVICE_LIMIT_HOURS:
        return "critical"  # past jobservice's limit: Harbor already shows it as Error while it runs on
    return SEVERITY.get(finding.code, "warning")


@conditions("gc", TITLES)
def gc_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    link = reverse("maintenance:overview")
    for row in overview(at=at):
        running = row.state.running_since if row.state is not None else None
        hours = (at - running).total_seconds() / 3600 if running is not None else None
        policy = row.expected.policy.name if row.expected is not None else ""
        seen: set[str] = set()
        for finding in row.findings:
            if finding.code in seen:  # one alert per (condition, instance)
                continue
            seen.add(finding.code)
            yield Occurrence(f"gc.{finding.code}", f"instance:{row.instance.pk}", _severity(finding, hours),
                             f"{row.instance.name}: {finding.title}", details=finding.message, link=link,
                             instance_id=row.instance.pk, labels={"policy": policy} if policy else {})
