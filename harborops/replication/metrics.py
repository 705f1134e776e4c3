"""Replication gauges for /metrics, per policy, read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.timezone import now
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.replication.models import Policy


class ReplicationCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["instance", "policy"]
        age = GaugeMetricFamily("harborops_replication_policy_last_success_age_seconds",
                                "Seconds since the policy's last successful execution (absent: never)", labels=labels)
        level = GaugeMetricFamily("harborops_replication_policy_health",
                                  "Policy health: 0 healthy, 1 never run/disabled, 2 lagging, 3 failing, 4 stuck",
                                  labels=labels)
        status = GaugeMetricFamily("harborops_replication_policy_status",
                                   "1 for the policy's current health label", labels=[*labels, "health"])
        at = now()
        for p in Policy.objects.select_related("instance").order_by("instance__name", "name"):
            key = [p.instance.name, p.name]
            seconds = p.last_success_age_seconds(at)
            if seconds is not None:
                age.add_metric(key, seconds)
            level.add_metric(key, Policy.HEALTH_LEVEL.get(Policy.Health(p.health), 1))
            status.add_metric([*key, p.health], 1)
        yield age
        yield level
        yield status
