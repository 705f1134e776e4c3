"""The expiry page, the endpoint pages, the scan job, the schedule, /metrics and the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.certificates.models import Certificate, ChainEntry, Endpoint, Rotation
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import Instance
from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule
from tests.certificates import pki
from tests.certificates.conftest import Zoo
from tests.certificates.tls_server import TLSServer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def _cert(fp: str, days: float, cn: str, issuer: str = "CN=Corp CA") -> Certificate:
    at = now()
    return Certificate.objects.create(
        fingerprint=fp, pem="-----BEGIN CERTIFICATE-----\n", subject=f"CN={cn}", common_name=cn, issuer=issuer,
        serial="1", not_before=at - dt.timedelta(days=400), not_after=at + dt.timedelta(days=days),
        dns_names=[cn], signature_algorithm="sha256WithRSAEncryption", key_type="RSA", key_size=2048)


@pytest.fixture
def seen() -> dict[str, Endpoint]:
    """Four endpoints whose server certificates fall in four bands, one of them an instance's."""
    instance = Instance.objects.create(name="eu-1", url="https://eu-1.example.test", username="admin", password="x")
    rows = {"expired": -3, "soon": 5, "month": 25, "fine": 200}
    out = {}
    for i, (label, days) in enumerate(rows.items()):
        ep = Endpoint.objects.create(label=label, host=f"{label}.example.test", port=443,
                                     instance=instance if label == "soon" else None,
                                     source="instance" if label == "soon" else "manual", status="ok")
        cert = _cert(f"AA:{i:02d}", days, f"{label}.example.test", issuer="CN=Other CA" if label == "fine" else
                     "CN=Corp CA")
        ChainEntry.objects.create(endpoint=ep, certificate=cert, position=0)
        Endpoint.objects.filter(pk=ep.pk).update(leaf=cert)
        Rotation.objects.create(endpoint=ep, new=cert)
        out[label] = ep
    return out


def test_the_expiry_page_shows_bands_filters_and_the_timeline(vera: User, seen: dict[str, Endpoint]):
    client = Client()
    client.force_login(vera)
    page = client.get("/certificates/").content.decode()
    for name, n in (("expired", 1), ("7", 1), ("30", 1), ("90", 0), ("ok", 1)):
        assert f'data-band="{name}" href="?band={name}">' in page and f"<b>{n}</b>" in page
    assert 'id="expiry-timeline"' in page and 'data-label="expired" data-count="1"' in page
    assert page.index("expired.example.test") < page.index("soon.example.test") < page.index("fine.example.test")
    only_soon = client.get("/certificates/?band=7", HTTP_HX_REQUEST="true").content.decode()
    assert "soon.example.test" in only_soon and "fine.example.test" not in only_soon and "<html" not in only_soon
    by_issuer = client.get("/certificates/?issuer=Other").content.decode()
    assert "fine.example.test" in by_issuer and "month.example.test" not in by_issuer
    by_instance = client.get(f"/certificates/?instance={seen['soon'].instance_id}").content.decode()
    assert "soon.example.test" in by_instance and "month.example.test" not in by_instance
    by_label = client.get("/certificates/?label=mont").content.decode()
    assert "month.example.test" in by_label and "soon.example.test" not in by_label
    assert "Scan now" not in page  # a viewer reads, an operator scans
    ChainEntry.objects.create(endpoint=seen["fine"], certificate=_cert("BB:01", 900, "Root CA"), position=1)
    assert "Root CA" in client.get("/certificates/").content.decode()
    assert "Root CA" not in client.get("/certificates/?leaf_only=on").content.decode()


def test_metrics_export_seconds_to_expiry_per_endpoint_and_fingerprint(seen: dict[str, Endpoint]):
    text = Client().get("/metrics").content.decode()
    lines = [ln for ln in text.splitlines() if ln.startswith("harborops_certificate_expiry_seconds{")]
    assert len(lines) == 4
    expired = next(ln for ln in lines if 'fingerprint="AA:00"' in ln)
    assert 'endpoint="expired (expired.example.test:443)"' in expired and float(expired.split()[-1]) < -2 * 86400
    fine = next(ln for ln in lines if 'fingerprint="AA:03"' in ln)
    assert 199 * 86400 < float(fine.split()[-1]) <= 200 * 86400


def test_an_admin_adds_an_endpoint_and_an_operator_scans_it_as_a_job(alice: User, bob: User, zoo: Zoo):
    admin = Client()
    admin.force_login(alice)
    host, port = zoo.at("valid")
    bad = admin.post("/certificates/endpoints/add/", {"label": "vip", "host": "https://x", "port": 443,
                                                      "server_name": "", "ca_bundle": "nope", "enabled": "on"})
    assert (bad.status_code == 200 and b"not a PEM" in bad.content) or b"without scheme" in bad.content
    r = admin.post("/certificates/endpoints/add/", {"label": "vip", "host": host, "port": port,
                                                    "server_name": "harbor.test", "ca_bundle": zoo.root.pem,
                                                    "enabled": "on"})
    endpoint = Endpoint.objects.get(label="vip")
    assert r.status_code == 302 and r["Location"] == f"/certificates/endpoints/{endpoint.pk}/"
    assert ActionLogEntry.objects.filter(action="certificates.endpoint.create", object_id=str(endpoint.pk)).exists()
    operator = Client()
    operator.force_login(bob)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = operator.post(f"/certificates/endpoints/{endpoint.pk}/scan/")
    job = JobRun.objects.get(kind="certificates.scan")
    assert started["Location"] == f"/jobs/{job.pk}/" and job.target_id == str(endpoint.pk)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED and "1 endpoint(s) scanned: 1 ok" in job.summary
    detail = operator.get(f"/certificates/endpoints/{endpoint.pk}/").content.decode()
    assert 'data-check="hostname" data-status="ok"' in detail and "CN=Test Intermediate CA" in detail
    assert 'data-position="1"' in detail and "first seen" in detail


def test_the_scheduled_scan_is_a_job_over_every_endpoint_and_one_failure_stops_none(zoo: Zoo, tmp_path: Path):
    host, port = zoo.at("expired")
    Endpoint.objects.create(label="expired", host=host, port=port, server_name="harbor.test", ca_bundle=zoo.root.pem)
    Endpoint.objects.create(label="dead", host="127.0.0.1", port=9)
    from harborops.certificates.tasks import scan_certificates

    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        scan_certificates()
    job = JobRun.objects.get(kind="certificates.scan")
    assert job.trigger == JobRun.Trigger.SCHEDULED
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert "2 endpoint(s) scanned" in job.summary and "1 failing" in job.summary and "1 unreachable" in job.summary
    assert Endpoint.objects.get(label="expired").status == "failing"
    log = list(JobLogLine.objects.filter(job=job).values_list("level", "text"))
    assert any(level == "error" and text.startswith("expired ") and "expired" in text for level, text in log), log


def test_the_schedule_runs_every_six_hours_and_can_be_moved_or_disabled():
    entry = next(e for e in SYSTEM_SCHEDULES if e.env == "HARBOROPS_CERT_SCAN_CRON")
    assert entry.task == "harborops.certificates.tasks.scan_certificates"
    default = build_beat_schedule([entry], environ={})["harborops: Scan TLS certificates"]
    assert default["schedule"].hour == {0, 6, 12, 18}
    moved = build_beat_schedule([entry], environ={"HARBOROPS_CERT_SCAN_CRON": "0 3 * * *"})
    assert moved["harborops: Scan TLS certificates"]["schedule"].hour == {3}
    assert build_beat_schedule([entry], environ={"HARBOROPS_CERT_SCAN_CRON": "disable"}) == {}
    check = next(e for e in SYSTEM_SCHEDULES if e.env == "HARBOROPS_CERT_TRUST_CRON")
    assert check.task == "harborops.certificates.tasks.check_trust"
    trust = build_beat_schedule([check], environ={})["harborops: Check CA trust on pulling hosts"]
    assert trust["schedule"].hour == {0, 6, 12, 18} and trust["options"]["queue"] == "periodic"


def test_the_api_lists_endpoints_chain_history_and_expiry(vera: User, seen: dict[str, Endpoint]):
    api = APIClient()
    api.force_login(vera)
    detail = api.get(f"/api/certificates/endpoints/{seen['soon'].pk}/").json()
    assert detail["source"] == "instance" and detail["days_left"] in (4, 5)
    assert [c["fingerprint"] for c in detail["chain"]] == ["AA:01"] and detail["history"][0]["old"] is None
    expiry = api.get("/api/certificates/expiry/?band=expired").json()
    assert [e["endpoint_label"] for e in expiry["results"]] == ["expired"]
    assert expiry["results"][0]["certificate"]["band"] == "expired"
    assert api.get("/api/certificates/certificates/?fingerprint=AA:03").json()["count"] == 1
    assert api.post("/api/certificates/endpoints/scan/").status_code == 403


def test_the_api_adds_endpoints_for_admins_with_clear_errors(alice: User, bob: User, seen: dict[str, Endpoint]):
    api = APIClient()
    api.force_login(alice)
    bad = api.post("/api/certificates/endpoints/", {"label": "x", "host": "ldap.example.test", "port": 70000},
                   format="json")
    assert bad.status_code == 400 and "port" in bad.json()
    dup = api.post("/api/certificates/endpoints/", {"label": "x", "host": "fine.example.test", "port": 443},
                   format="json")
    assert dup.status_code == 400 and "already watched" in str(dup.json())
    made = api.post("/api/certificates/endpoints/", {"label": "ldaps", "host": "ldap.example.test", "port": 636},
                    format="json")
    assert made.status_code == 201, made.content
    moved = api.patch(f"/api/certificates/endpoints/{seen['soon'].pk}/", {"host": "elsewhere.test"}, format="json")
    assert moved.status_code == 400 and "follows its URL" in str(moved.json())
    assert api.delete(f"/api/certificates/endpoints/{seen['soon'].pk}/").status_code == 400
    assert api.delete(f"/api/certificates/endpoints/{made.json()['id']}/").status_code == 204
    operator = APIClient()
    operator.force_login(bob)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        assert operator.post("/api/certificates/endpoints/scan/").status_code == 202
    assert operator.post("/api/certificates/endpoints/", {"label": "y", "host": "h", "port": 1}).status_code == 403


def test_a_rotated_certificate_shows_old_and_new_on_the_endpoint_page(vera: User, zoo: Zoo, tmp_path: Path):
    from harborops.certificates.services import scan

    endpoint = Endpoint.objects.create(label="lb", host="127.0.0.21", port=1, ca_bundle=zoo.root.pem)
    for stem in ("one", "two"):
        made = pki.make_leaf(tmp_path, stem, zoo.root, ips=("127.0.0.21",), cn=f"{stem}.harbor.test")
        with TLSServer(made.chain, made.key, host="127.0.0.21") as server:
            Endpoint.objects.filter(pk=endpoint.pk).update(port=server.port)
            endpoint.refresh_from_db()
            scan.scan_endpoints([endpoint])
    client = Client()
    client.force_login(vera)
    history = client.get(f"/certificates/endpoints/{endpoint.pk}/").content.decode().split('id="history"')[1]
    latest, first = history.split("</tr>")[1:3]  # newest first, after the header row
    assert latest.index("one.harbor.test") < latest.index("two.harbor.test")  # old → new
    assert "first seen" in first and "one.harbor.test" in first and "two.harbor.test" not in first
