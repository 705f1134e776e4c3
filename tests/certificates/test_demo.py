"""The demo's certificates are real: simulated Harbors serve them over TLS and the scan sees the bands."""

from __future__ import annotations

import pytest

from harborops.certificates import demo
from harborops.certificates.models import Endpoint
from harborops.certificates.services import scan
from harborops.core.actor import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def test_the_demo_serves_certificates_over_the_bands_and_the_scan_sees_them():
    servers, endpoints = demo.start("127.0.0.1", Actor.system("test"))
    try:
        result = scan.scan_endpoints(endpoints, timeout=5.0)
        again, _ = demo.start("127.0.0.1", Actor.system("test"))  # idempotent: the same endpoints, new ports
        servers += again
    finally:
        for server in servers:
            server.stop()
    by_label = {o.label: o for o in result.outcomes}
    bands = {e.label: e.leaf.band for e in Endpoint.objects.select_related("leaf") if e.leaf}
    assert bands == {"demo-tls-expired": "expired", "demo-tls-5-days": "7", "demo-tls-25-days": "30",
                     "demo-tls-healthy": "ok", "demo-tls-missing-intermediate": "ok"}
    assert by_label["demo-tls-healthy"].status == "ok"
    assert by_label["demo-tls-expired"].status == "failing" and "expired" in by_label["demo-tls-expired"].message
    assert "missing intermediate" in by_label["demo-tls-missing-intermediate"].message
    assert Endpoint.objects.filter(label__startswith="demo-tls-").count() == 5
    assert demo.unregister(Actor.system("test")) == 5
