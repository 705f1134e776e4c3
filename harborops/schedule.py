"""The system beat schedule as data (after paperless-ngx ``parse_beat_schedule``).

Each entry's cron comes from an environment variable with a default; setting the variable to
``disable`` removes the entry. ``expires`` is just under the interval so a backlog of missed runs
never piles up. Entries are synced into django-celery-beat at beat start (see core/beat.py), and
system entries no longer in code are disabled there.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

SYSTEM_PREFIX = "harborops: "


class ScheduleEntry(NamedTuple):
    name: str
    env: str
    default_cron: str
    task: str
    expires: int
    queue: str = "periodic"


SYSTEM_SCHEDULES: list[ScheduleEntry] = [
    ScheduleEntry("Reap jobs whose worker died", "HARBOROPS_REAPER_CRON", "* * * * *",
                  "harborops.core.tasks.reap_stale_jobs", 50),
    ScheduleEntry("Purge old job logs", "HARBOROPS_JOB_PURGE_CRON", "17 3 * * *",
                  "harborops.core.tasks.purge_old_jobs", 23 * 3600),
    ScheduleEntry("Sweep fleet health", "HARBOROPS_SWEEP_CRON", "* * * * *",
                  "harborops.fleet.tasks.sweep_fleet", 50),
    ScheduleEntry("Purge old health snapshots", "HARBOROPS_SNAPSHOT_PURGE_CRON", "41 3 * * *",
                  "harborops.fleet.tasks.purge_snapshots", 23 * 3600),
    ScheduleEntry("Check access drift", "HARBOROPS_ACCESS_DRIFT_CRON", "*/30 * * * *",
                  "harborops.access.tasks.check_drift", 29 * 60),
    ScheduleEntry("Pull Harbor audit logs", "HARBOROPS_EVENTS_INGEST_CRON", "*/5 * * * *",
                  "harborops.events.tasks.ingest_fleet", 4 * 60),
    ScheduleEntry("Purge old Harbor audit events", "HARBOROPS_EVENTS_PURGE_CRON", "29 4 * * *",
                  "harborops.events.tasks.purge_events", 23 * 3600),
    ScheduleEntry("Check GC schedules and history", "HARBOROPS_GC_CHECK_CRON", "*/15 * * * *",
                  "harborops.maintenance.tasks.check_fleet_gc", 14 * 60),
    ScheduleEntry("Collect the clean-up report", "HARBOROPS_CLEANUP_SCAN_CRON", "37 */6 * * *",
                  "harborops.maintenance.tasks.scan_fleet_cleanup", 6 * 3600 - 60),
    ScheduleEntry("Scan TLS certificates", "HARBOROPS_CERT_SCAN_CRON", "23 */6 * * *",
                  "harborops.certificates.tasks.scan_certificates", 6 * 3600 - 60),
    ScheduleEntry("Check CA trust on pulling hosts", "HARBOROPS_CERT_TRUST_CRON", "47 */6 * * *",
                  "harborops.certificates.tasks.check_trust", 6 * 3600 - 60),
    ScheduleEntry("Collect replication state", "HARBOROPS_REPLICATION_COLLECT_CRON", "*/5 * * * *",
                  "harborops.replication.tasks.collect_fleet", 4 * 60),
    ScheduleEntry("Check HA pairs' consistency", "HARBOROPS_REPLICATION_PAIR_CHECK_CRON", "43 2 * * *",
                  "harborops.replication.tasks.check_pairs", 23 * 3600),
    ScheduleEntry("Evaluate alert conditions", "HARBOROPS_ALERTS_CRON", "* * * * *",
                  "harborops.alerts.tasks.evaluate_alerts", 50),
]


def parse_cron(expression: str) -> dict[str, str]:
    """``m h dom mon dow`` into celery.schedules.crontab keyword arguments."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression needs 5 fields (minute hour day month weekday): {expression!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return {"minute": minute, "hour": hour, "day_of_month": day_of_month,
            "month_of_year": month_of_year, "day_of_week": day_of_week}


def build_beat_schedule(entries: list[ScheduleEntry], environ: dict[str, str] | None = None) -> dict[str, Any]:
    from celery.schedules import crontab

    env = os.environ if environ is None else environ
    schedule: dict[str, Any] = {}
    for entry in entries:
        cron = env.get(entry.env, entry.default_cron).strip()
        if cron.lower() == "disable":
            continue
        schedule[SYSTEM_PREFIX + entry.name] = {
            "task": entry.task,
            "schedule": crontab(**parse_cron(cron)),
            "options": {"expires": entry.expires, "queue": entry.queue},
        }
    return schedule
