"""Prometheus metrics. Under several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (the run
command and the compose file do): counters then live in per-process files that one scrape
aggregates. Gauges that describe the database (jobs by status, later fleet health) are read at
scrape time by ``DatabaseCollector`` instead of being kept per process."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter("harborops_http_requests_total", "HTTP requests served", ["view", "method", "status"])
LATENCY = Histogram("harborops_http_request_duration_seconds", "HTTP request latency", ["view"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

_extra_collectors: list[Collector] = []
logger = logging.getLogger(__name__)


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    LATENCY.labels(view=view).observe(seconds)


# Label names our per-instance series already use; an instance label key equal to one gets a prefix.
RESERVED_LABELS = frozenset({"instance", "component", "queue", "status", "version", "kind", "job", "le", "quantile"})


def instance_label_keys() -> list[tuple[str, str]]:
    """(instance label key, Prometheus label name) for HARBOROPS_METRICS_INSTANCE_LABELS: the bounded
    set of an instance's labels that per-instance series carry. Names are made valid for Prometheus
    (``[a-zA-Z_][a-zA-Z0-9_]*``, no ``__`` prefix) and never clash with our own label names."""
    from django.conf import settings

    out: list[tuple[str, str]] = []
    for key in settings.METRICS_INSTANCE_LABELS:
        name = re.sub(r"[^a-zA-Z0-9_]", "_", key).lstrip("_") or "label"
        if name[0].isdigit() or name in RESERVED_LABELS:
            name = f"label_{name}"
        if name not in {n for _, n in out}:
            out.append((key, name))
    return out


def instance_label_values(keys: list[tuple[str, str]], labels: object) -> list[str]:
    """Values of the configured keys for one instance ("" when it has no such label), at most 100 chars."""
    found = labels if isinstance(labels, dict) else {}
    return [str(found.get(key, ""))[:100] for key, _ in keys]


def register_db_collector(collector: Collector) -> None:
    """Later apps add their gauges (fleet status counts, ...) here."""
    _extra_collectors.append(collector)


class JobCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from harborops.core.models import JobRun

        family = GaugeMetricFamily("harborops_jobs", "Jobs by status", labels=["status"])
        counts = dict(JobRun.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        for status in JobRun.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family
        from harborops.core.models import PeriodicRun

        reaper = GaugeMetricFamily("harborops_reaper_last_run_timestamp_seconds",
                                   "When the reaper of dead jobs last finished a run (Unix time)")
        last = PeriodicRun.objects.filter(name="reaper").values_list("last_finished_at", flat=True).first()
        if last is not None:
            reaper.add_metric([], last.timestamp())
        yield reaper


def render_latest() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
        text = generate_latest(process_registry)
    else:
        text = generate_latest(REGISTRY)
    # Gauges read from the database; a database outage must not take the process metrics down.
    db_text = b""
    for collector in [JobCollector(), *_extra_collectors]:
        db_registry = CollectorRegistry()
        db_registry.register(collector)
        try:
            db_text += generate_latest(db_registry)
        except Exception:  # DatabaseError, or anything a collector trips over
            logger.exception("metrics: collector %s failed", type(collector).__name__)
    return text + db_text
