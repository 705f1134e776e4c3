"""Drift gauges for /metrics (per instance, with the configured instance labels), read at scrape time
from the findings the last drift check stored — the Prometheus twin of ``access.drift``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.access.models import DriftFinding
from harborops.fleet.models import Instance


class DriftCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from harborops.core.metrics import instance_label_keys, instance_label_values

        keys = instance_label_keys()
        family = GaugeMetricFamily("harborops_instance_drift_findings",
                                   "Open LDAP team mapping drift findings by kind (last drift check)",
                                   labels=["instance", *[name for _, name in keys], "kind"])
        counts: dict[int, dict[str, int]] = {}
        for pk, kind, n in (DriftFinding.objects.order_by().values_list("instance_id", "kind")
                            .annotate(n=Count("id")).values_list("instance_id", "kind", "n")):
            counts.setdefault(pk, {})[kind] = n
        for inst in Instance.objects.filter(enabled=True).order_by("name").only("pk", "name", "labels"):
            labels = [inst.name, *instance_label_values(keys, inst.labels)]
            for kind in DriftFinding.Kind.values:
                family.add_metric([*labels, kind], counts.get(inst.pk, {}).get(kind, 0))
        yield family
