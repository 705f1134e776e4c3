"""Fleet gauges for /metrics, read from the database at scrape time (one query each)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.fleet.models import Instance, SweepRun


class FleetCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = GaugeMetricFamily("harborops_fleet_instances", "Enabled Harbor instances by status",
                                   labels=["status"])
        counts = dict(Instance.objects.filter(enabled=True).values_list("status").annotate(n=Count("pk"))
                      .values_list("status", "n"))
        for value in Instance.Status.values:
            status.add_metric([value], counts.get(value, 0))
        yield status
        versions = GaugeMetricFamily("harborops_fleet_instances_by_version", "Enabled Harbor instances by version",
                                     labels=["version"])
        merged: dict[str, int] = {}
        for version, n in (Instance.objects.filter(enabled=True).values_list("version").annotate(n=Count("pk"))
                           .values_list("version", "n")):
            key = version.split("-")[0] or "unknown"  # v2.13.1-abc123 and v2.13.1-def456 are one release
            merged[key] = merged.get(key, 0) + n
        for key, n in sorted(merged.items()):
            versions.add_metric([key], n)
        yield versions
        last = SweepRun.objects.exclude(finished_at=None).order_by("-started_at").first()
        sweep = GaugeMetricFamily("harborops_fleet_last_sweep_seconds", "Duration of the last finished sweep")
        finished = GaugeMetricFamily("harborops_fleet_last_sweep_finished_timestamp_seconds",
                                     "When the last sweep finished (Unix time)")
        if last is not None and last.finished_at is not None:
            sweep.add_metric([], (last.finished_at - last.started_at).total_seconds())
            finished.add_metric([], last.finished_at.timestamp())
        yield sweep
        yield finished
