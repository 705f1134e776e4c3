"""Alert conditions of replication (contract: harborops/core/conditions.py), from what the collector and
the pair checks stored (no network): per policy its health roll-up, per HA group the last consistency
check, loop risk and version skew."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from django.urls import reverse

from harborops.core.conditions import Occurrence, Severity, conditions
from harborops.fleet.models import HAGroup
from harborops.replication import hagroups, pairchecks, pairs
from harborops.replication.models import HAPair, Policy

TITLES = {
    "replication.policy_failing": "replication policy failing",
    "replication.execution_stuck": "replication execution stuck",
    "replication.schedule_missed": "scheduled replication did not run",
    "replication.lagging": "replication lagging",
    "replication.pair_inconsistent": "HA pair members hold different artifacts",
    "replication.loop_risk": "replication loop risk between HA members",
    "replication.version_skew": "HA group members run different Harbor versions",
}


# What an occurrence of a policy reads (a policy and its instance have many more columns, some encrypted).
OCCURRENCE_FIELDS = ("pk", "name", "instance__name", "direction", "trigger_type", "cron", "health", "health_reason",
                     "stuck_count", "missed_runs", "failure_rate_7d", "last_success_at")


def _policy_occurrences(at: dt.datetime) -> Iterator[Occurrence]:
    qs = (Policy.objects.select_related("instance").only(*OCCURRENCE_FIELDS).filter(enabled=True)
          .exclude(health__in=(Policy.Health.HEALTHY, Policy.Health.NEVER_RUN, Policy.Health.DISABLED)))
    for p in qs.order_by("instance__name", "name"):
        subject, link = f"rpolicy:{p.pk}", reverse("replication:policy_detail", args=[p.pk])
        where = f"{p.instance.name}: {p.name}"
        labels = {"direction": p.direction, "trigger": p.trigger_type}
        if p.health == Policy.Health.STUCK:
            yield Occurrence("replication.execution_stuck", subject, "critical",
                             f"{where}: {p.stuck_count} execution(s) stuck", p.health_reason, link, p.instance_id,
                             labels)
        elif p.health == Policy.Health.FAILING:
            rate = f" (7 d failure rate {p.failure_rate_7d:.0%})" if p.failure_rate_7d is not None else ""
            yield Occurrence("replication.policy_failing", subject, "critical",
                             f"{where}: the last execution failed{rate}", p.health_reason, link, p.instance_id, labels)
        elif p.health == Policy.Health.LAGGING and p.missed_runs:
            yield Occurrence("replication.schedule_missed", subject, "warning",
                             f"{where}: {p.missed_runs} scheduled run(s) did not happen", p.health_reason, link,
                             p.instance_id, {**labels, "cron": p.cron})
        elif p.health == Policy.Health.LAGGING:
            age = p.last_success_age_seconds(at)
            since = f"{age / 3600:.0f} h ago" if age is not None else "never"
            yield Occurrence("replication.lagging", subject, "warning",
                             f"{where}: last success {since}", p.health_reason, link, p.instance_id, labels)


def _group_occurrences(groups: Sequence[HAGroup] | None = None,
                       data: hagroups.GroupData | None = None) -> Iterator[Occurrence]:
    """Every HA group's (default: all of them), read in bulk (hagroups.load: a fixed number of queries)."""
    groups = list(groups if groups is not None else HAGroup.objects.order_by("name"))
    data = data if data is not None else hagroups.load(groups, gc=False)
    for group in groups:
        subject, link = f"hagroup:{group.pk}", reverse("replication:pair_detail", args=[group.pk])
        members = data.enabled_members(group)
        first = members[0].pk if members else None
        skew = pairchecks.version_skew(members)
        if skew.severity in ("warning", "critical"):
            yield Occurrence("replication.version_skew", subject, "critical" if skew.severity == "critical"
                             else "warning", f"{group.name}: {skew.title.lower()}", skew.detail, link, first)
        if group.mode != HAGroup.Mode.TWO_WAY_REPLICATION:
            continue
        pair = data.pairs.get(group.pk)
        if pair is not None and pair.status != HAPair.Status.TORN_DOWN and pair.consistent is False:
            yield Occurrence("replication.pair_inconsistent", subject, "warning",
                             f"{group.name}: {pair.missing_count} artifact(s) or tag(s) missing on a member",
                             f"checked {pair.checked_at:%Y-%m-%d %H:%M} UTC" if pair.checked_at else "", link, first)
        risks = pairs.loop_risks(group, data)
        if risks:
            # one bounce that Harbor skips ("already exists") is how two-way replication works: info; a renaming
            # destination namespace can go round and round: critical
            worst: Severity = "critical" if any(r.unbounded for r in risks) else "info"
            yield Occurrence("replication.loop_risk", subject, worst,
                             f"{group.name}: event-based push both ways with overlapping filters",
                             "; ".join(f"{r.policy.name} ⇄ {r.back.name}: {r.reason}" for r in risks), link, first)


@conditions("replication", TITLES)
def replication_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    yield from _policy_occurrences(at)
    yield from _group_occurrences()


def for_group(group: HAGroup, at: dt.datetime, data: hagroups.GroupData | None = None) -> list[Occurrence]:
    """The group's occurrences only (those of policies have their own subjects): the others are not read.
    Group conditions do not depend on ``at``; it is kept for the same signature as the rest."""
    return list(_group_occurrences([group], data))
