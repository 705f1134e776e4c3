"""Fleet gauges for /metrics, read from the database at scrape time: fleet-wide counts (``FleetCollector``)
and per-instance series (``InstanceCollector``, README "Metrics for Prometheus")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.fleet.models import HealthSnapshot, Instance, SweepRun

logger = logging.getLogger(__name__)


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


def _availability() -> dict[int, str]:
    """instance id -> debounced state (up / down / unknown) from alerts.InstanceAvailability; empty
    when the alerts app is not installed or not migrated yet (then the raw probe result stands in)."""
    from django.apps import apps
    from django.db import DatabaseError, transaction

    try:
        model = apps.get_model("alerts", "InstanceAvailability")
    except LookupError:
        return {}
    try:
        with transaction.atomic():  # a missing table must not poison an outer transaction (tests, PG)
            return dict(model.objects.values_list("instance_id", "state"))
    except DatabaseError:
        logger.warning("metrics: alerts.InstanceAvailability unreadable; harborops_instance_up uses raw probes")
        return {}


def _ingest() -> tuple[dict[int, Any], dict[int, Any], dict[int, int]]:
    """Per instance: newest stored audit event time, last successful ingest, ids missing in recent gaps."""
    from django.apps import apps
    from django.conf import settings
    from django.db.models import OuterRef, Subquery, Sum
    from django.utils.timezone import now

    try:
        event = apps.get_model("events", "HarborEvent")
        state = apps.get_model("events", "IngestState")
        anomaly = apps.get_model("events", "IngestAnomaly")
    except LookupError:
        return {}, {}, {}
    # One index probe per instance on (instance, -op_time, -id): no scan of the whole events table.
    newest_q = event.objects.filter(instance=OuterRef("pk")).order_by("-op_time", "-id").values("op_time")[:1]
    newest = dict(Instance.objects.filter(enabled=True).annotate(newest=Subquery(newest_q))
                  .exclude(newest=None).values_list("pk", "newest"))
    success = dict(state.objects.exclude(last_success_at=None).values_list("instance_id", "last_success_at"))
    since = now() - timedelta(hours=settings.EVENTS_GAP_ALERT_HOURS)
    gaps = dict(anomaly.objects.filter(kind="gap", detected_at__gte=since).order_by().values_list("instance_id")
                .annotate(n=Sum("missing")).values_list("instance_id", "n"))
    return newest, success, gaps


class InstanceCollector(Collector):
    """Per-instance series, labelled ``instance`` (its name) plus the instance labels listed in
    HARBOROPS_METRICS_INSTANCE_LABELS. Enabled instances only; a handful of queries per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import OuterRef, Subquery
        from django.utils.timezone import now

        from harborops.core.metrics import instance_label_keys, instance_label_values

        keys = instance_label_keys()
        base = ["instance", *[name for _, name in keys]]

        def family(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=[*base, *extra])

        up = family("harborops_instance_up", "Debounced availability (1 up, 0 down; hysteresis over sweeps)")
        raw = family("harborops_instance_probe_success", "The last sweep's raw result (1 answered, 0 failed)")
        status = family("harborops_instance_status", "The last sweep's status (1 for the current one)", ("status",))
        error = family("harborops_instance_probe_error", "The last sweep failed with this kind of error", ("kind",))
        latency = family("harborops_instance_probe_latency_seconds", "The last sweep's response time")
        probed = family("harborops_instance_last_probe_timestamp_seconds", "When the sweep last probed it")
        component = family("harborops_instance_component_healthy", "Harbor component health (1 healthy)",
                           ("component",))
        info = family("harborops_instance_info", "The Harbor version it runs", ("version",))
        total = family("harborops_instance_storage_total_bytes", "Registry volume size")
        used = family("harborops_instance_storage_used_bytes", "Registry volume space in use")
        queue = family("harborops_instance_jobservice_queue_length", "Jobservice jobs waiting", ("queue",))
        queue_latency = family("harborops_instance_jobservice_queue_latency_seconds",
                               "Age of the oldest waiting jobservice job", ("queue",))
        lag = family("harborops_instance_audit_ingest_lag_seconds", "Seconds since the newest ingested audit event")
        ingested = family("harborops_instance_audit_ingest_last_success_timestamp_seconds",
                          "When the audit ingest last succeeded (Unix time)")
        gap = family("harborops_instance_audit_gap_events", "Audit event ids found missing on Harbor (purged before "
                     "ingest) within HARBOROPS_EVENTS_GAP_ALERT_HOURS")

        latest = HealthSnapshot.objects.filter(instance=OuterRef("pk")).order_by("-taken_at", "-pk").values("pk")[:1]
        instances = list(Instance.objects.filter(enabled=True).annotate(snap=Subquery(latest)).order_by("name"))
        snaps = {s.pk: s for s in HealthSnapshot.objects.filter(pk__in=[i.snap for i in instances if i.snap])
                 .only("pk", "components", "job_queues")}
        debounced = _availability()
        newest, success, gaps = _ingest()
        at = now()
        for inst in instances:
            labels = [inst.name, *instance_label_values(keys, inst.labels)]
            answered = {Instance.Status.UP: 1, Instance.Status.DEGRADED: 1, Instance.Status.DOWN: 0}.get(
                Instance.Status(inst.status))
            if answered is not None:
                raw.add_metric(labels, answered)
            state = debounced.get(inst.pk)
            if state in ("up", "down"):
                up.add_metric(labels, 1 if state == "up" else 0)
            elif answered is not None:  # no debounced opinion yet (no row, or "unknown"): the raw result
                up.add_metric(labels, answered)
            for value in Instance.Status.values:
                status.add_metric([*labels, value], 1 if inst.status == value else 0)
            if inst.error_kind:
                error.add_metric([*labels, inst.error_kind], 1)
            if inst.latency_ms is not None:
                latency.add_metric(labels, inst.latency_ms / 1000)
            if inst.last_swept_at is not None:
                probed.add_metric(labels, inst.last_swept_at.timestamp())
            if inst.version:
                info.add_metric([*labels, inst.version.split("-")[0]], 1)
            if inst.storage_total:
                total.add_metric(labels, inst.storage_total)
                if inst.storage_free is not None:
                    used.add_metric(labels, inst.storage_total - inst.storage_free)
            snap = snaps.get(inst.snap) if inst.snap else None
            if snap is not None:
                for c in snap.components or []:
                    if isinstance(c, dict) and c.get("name"):
                        component.add_metric([*labels, str(c["name"])[:64]], 1 if c.get("status") == "healthy" else 0)
                for q in snap.job_queues or []:
                    if isinstance(q, dict) and q.get("job_type"):
                        name = str(q["job_type"])[:64]
                        queue.add_metric([*labels, name], float(q.get("count") or 0))
                        queue_latency.add_metric([*labels, name], float(q.get("latency") or 0))
            if inst.pk in newest:
                lag.add_metric(labels, max(0.0, (at - newest[inst.pk]).total_seconds()))
            if inst.pk in success:
                ingested.add_metric(labels, success[inst.pk].timestamp())
            gap.add_metric(labels, float(gaps.get(inst.pk) or 0))
        yield from (up, raw, status, error, latency, probed, component, info, total, used, queue, queue_latency,
                    lag, ingested, gap)
