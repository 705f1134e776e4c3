"""GC gauges for /metrics, read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.maintenance.services.watchdog import CONDITIONS, overview


class GCCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        rows = overview()
        success = GaugeMetricFamily("harborops_gc_last_success_timestamp",
                                    "When the last successful GC of an instance ended (Unix time)",
                                    labels=["instance"])
        problems = GaugeMetricFamily("harborops_gc_condition",
                                     "1 while a GC watchdog condition holds for an instance",
                                     labels=["instance", "condition"])
        freed = GaugeMetricFamily("harborops_gc_last_freed_bytes",
                                  "Bytes freed by harborops' last successful GC run of an instance",
                                  labels=["instance"])
        for row in rows:
            if row.last_success is not None:
                success.add_metric([row.instance.name], row.last_success.timestamp())
            for code in sorted({f.code for f in row.findings} & set(CONDITIONS)):
                problems.add_metric([row.instance.name, code], 1)
        from harborops.maintenance.models import GCStep

        seen: set[int] = set()
        # three columns, not whole steps with their logs and instances (one row per step kept)
        for pk, name, freed_bytes in (GCStep.objects.filter(status=GCStep.Status.SUCCEEDED).exclude(freed_bytes=None)
                                      .exclude(instance=None).order_by("-finished_at")
                                      .values_list("instance_id", "instance__name", "freed_bytes")):
            if pk not in seen:
                seen.add(pk)
                freed.add_metric([name], float(freed_bytes or 0))
        yield success
        yield problems
        yield freed
