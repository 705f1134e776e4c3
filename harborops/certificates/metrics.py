"""Certificate gauges for /metrics, read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.timezone import now
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from harborops.certificates.models import ChainEntry


class CertificateCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "harborops_certificate_expiry_seconds",
            "Seconds until a certificate an endpoint presents expires (negative: expired)",
            labels=["endpoint", "fingerprint"])
        at = now()
        rows = (ChainEntry.objects.filter(endpoint__enabled=True)
                .values_list("endpoint__label", "endpoint__host", "endpoint__port", "certificate__fingerprint",
                             "certificate__not_after").order_by("endpoint__label", "endpoint_id", "position"))
        for label, host, port, fp, not_after in rows:
            family.add_metric([f"{label} ({host}:{port})", fp], (not_after - at).total_seconds())
        yield family
