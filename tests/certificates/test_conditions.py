"""The certificate alert conditions (harborops/certificates/conditions.py), the expiry page's
"Needs attention" list and its API, from stored rows only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now
from rest_framework.test import APIClient

from harborops.certificates.conditions import certificate_conditions, expiry_condition
from harborops.certificates.models import Certificate, ChainEntry, DiskFile, Endpoint, PullingHost, TrustState
from harborops.core import conditions as registry
from harborops.fleet.models import Instance
from harborops.installs.models import Install, Installer, InstallTarget
from harborops.ssh.models import SSHHost

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]
AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _cert(fp: str, days: float, cn: str = "harbor.test") -> Certificate:
    return Certificate.objects.create(
        fingerprint=fp, pem="-", subject=f"CN={cn}", common_name=cn, issuer="CN=Corp CA", serial="1",
        not_before=AT - dt.timedelta(days=300), not_after=AT + dt.timedelta(days=days), dns_names=[cn],
        signature_algorithm="sha256WithRSAEncryption", key_type="RSA", key_size=2048)


def _endpoint(label: str, days: float, *, checks: list[dict[str, str]] | None = None,
              instance: Instance | None = None) -> Endpoint:
    endpoint = Endpoint.objects.create(label=label, host=f"{label}.test", port=443, instance=instance,
                                       source="instance" if instance else "manual", checks=checks or [])
    cert = _cert(f"FP:{label}", days, f"{label}.test")
    ChainEntry.objects.create(endpoint=endpoint, certificate=cert, position=0)
    Endpoint.objects.filter(pk=endpoint.pk).update(leaf=cert)
    return endpoint


def by_key(at: dt.datetime = AT) -> dict[str, list[registry.Occurrence]]:
    out: dict[str, list[registry.Occurrence]] = {}
    for o in certificate_conditions(at):
        out.setdefault(o.condition, []).append(o)
    return out


@pytest.mark.parametrize(("days", "expected"), [
    (-0.01, ("certificates.expired", "critical")), (0.5, ("certificates.expires_1d", "critical")),
    (1.5, ("certificates.expires_7d", "warning")), (6.9, ("certificates.expires_7d", "warning")),
    (7.1, ("certificates.expires_14d", "warning")), (13.9, ("certificates.expires_14d", "warning")),
    (20, ("certificates.expires_30d", "info")), (30.5, None), (365, None)])
def test_each_band_is_its_own_key_and_only_the_tightest_applies(days: float, expected: tuple[str, str] | None):
    assert expiry_condition(AT + dt.timedelta(days=days), AT) == expected


def test_the_source_is_registered_and_every_key_has_a_title():
    source = next(s for s in registry.sources() if s.name == "certificates")
    assert set(source.titles) == {"certificates.expired", "certificates.expires_30d", "certificates.expires_14d",
                                  "certificates.expires_7d", "certificates.expires_1d", "certificates.chain_invalid",
                                  "certificates.disk_differs", "certificates.trust_drift"}


def test_a_certificate_walks_through_the_bands_firing_each_once_as_the_date_nears():
    endpoint = _endpoint("eu", 40)
    seen = []
    for half_day in range(0, 90):
        found = [o for o in certificate_conditions(AT + dt.timedelta(hours=12 * half_day))
                 if o.subject.startswith("endpoint:")]
        assert len(found) <= 1
        if found and (not seen or seen[-1] != found[0].condition):
            seen.append(found[0].condition)
    assert seen == ["certificates.expires_30d", "certificates.expires_14d", "certificates.expires_7d",
                    "certificates.expires_1d", "certificates.expired"]
    occ = next(o for o in certificate_conditions(AT + dt.timedelta(days=35)))
    assert occ.link == f"/certificates/endpoints/{endpoint.pk}/" and occ.labels["band"] == "expires_7d"


def test_chain_problems_disabled_endpoints_and_instances():
    instance = Instance.objects.create(name="eu-1", url="https://eu-1.test", username="admin", password="x")
    _endpoint("ok", 200, checks=[{"name": "hostname", "status": "ok", "message": "fine"}])
    bad = _endpoint("bad", 200, instance=instance, checks=[
        {"name": "hostname", "status": "fail", "message": "no SAN matches bad.test"},
        {"name": "complete", "status": "fail", "message": "missing intermediate"},
        {"name": "validity", "status": "ok", "message": "valid"}])
    untrusted = _endpoint("untrusted", 200, checks=[{"name": "trust", "status": "fail", "message": "self-signed"}])
    weak = _endpoint("weak", 200, checks=[{"name": "strength", "status": "fail", "message": "RSA 1024 bits"}])
    off = _endpoint("off", -5, checks=[{"name": "trust", "status": "fail", "message": "x"}])
    Endpoint.objects.filter(pk=off.pk).update(enabled=False)
    found = {o.subject: o for o in by_key()["certificates.chain_invalid"]}
    assert set(found) == {f"endpoint:{e.pk}" for e in (bad, untrusted, weak)}
    assert found[f"endpoint:{bad.pk}"].severity == "warning"
    assert found[f"endpoint:{bad.pk}"].instance_id == instance.pk
    assert "missing intermediate" in found[f"endpoint:{bad.pk}"].summary
    assert found[f"endpoint:{bad.pk}"].labels == {"checks": "complete,hostname"}
    assert found[f"endpoint:{untrusted.pk}"].severity == "critical"
    assert "certificates.expired" not in by_key()  # the disabled one is not watched


def _target() -> InstallTarget:
    installer = Installer.objects.create(filename="harbor-offline-installer-v2.13.1.tgz", version="2.13.1")
    install = Install.objects.create(name="h", installer=installer, admin_password="a", db_password="d",
                                     status="succeeded")
    host = SSHHost.objects.create(name="h1", address="127.0.0.2", port=22, username="u")
    return InstallTarget.objects.create(install=install, host=host, hostname="127.0.0.2")


def test_files_on_disk_differ_from_served_and_their_expiry():
    target = _target()
    DiskFile.objects.create(target=target, kind="https_certificate", path="/c/server.crt", fingerprint="NEW",
                            served_fingerprint="OLD", matches_served=False, not_after=AT + dt.timedelta(days=3))
    DiskFile.objects.create(target=target, kind="https_private_key", path="/c/server.key", key_matches=False)
    DiskFile.objects.create(target=target, kind="internal_tls", path="/i/core.crt", fingerprint="I",
                            not_after=AT - dt.timedelta(days=1))
    DiskFile.objects.create(target=target, kind="https_certificate", path="/c/fine.crt", fingerprint="X",
                            served_fingerprint="X", matches_served=True, not_after=AT + dt.timedelta(days=300))
    found = by_key()
    differs = {o.subject: o for o in found["certificates.disk_differs"]}
    assert set(differs) == {f"file:{target.pk}:/c/server.crt", f"file:{target.pk}:/c/server.key"}
    assert "./prepare" in differs[f"file:{target.pk}:/c/server.crt"].summary
    assert differs[f"file:{target.pk}:/c/server.key"].severity == "critical"
    assert [o.subject for o in found["certificates.expires_7d"]] == [f"file:{target.pk}:/c/server.crt"]
    assert [o.subject for o in found["certificates.expired"]] == [f"file:{target.pk}:/i/core.crt"]


def test_trust_drift_is_every_cell_that_is_not_ok():
    endpoint = _endpoint("reg", 200)
    pulling = PullingHost.objects.create(host=SSHHost.objects.create(name="node", address="127.0.0.2", username="u"))
    other = PullingHost.objects.create(host=pulling.host, runtime="containerd")
    TrustState.objects.create(pulling_host=pulling, endpoint=endpoint, state="stale", message="another CA")
    TrustState.objects.create(pulling_host=other, endpoint=endpoint, state="ok")
    drift = by_key()["certificates.trust_drift"]
    assert [(o.subject, o.labels["state"]) for o in drift] == [(f"trust:{pulling.pk}:{endpoint.pk}", "stale")]


def test_the_expiry_page_and_the_api_show_what_needs_attention(vera: User):
    Endpoint.objects.all().delete()
    soon = _endpoint("soon", 0)  # relative to AT, long past now
    Certificate.objects.filter(fingerprint="FP:soon").update(not_after=now() + dt.timedelta(hours=12))
    _endpoint("fine", 4000)
    client = Client()
    client.force_login(vera)
    page = client.get("/certificates/").content.decode()
    assert 'data-condition="certificates.expires_1d" data-severity="critical"' in page
    filtered = client.get("/certificates/?label=fine").content.decode()
    assert "data-condition=" not in filtered and 'id="attention-none"' in filtered
    api = APIClient()
    api.force_authenticate(vera)
    rows = api.get("/api/certificates/attention/").json()
    assert [(r["condition"], r["title"], r["subject"]) for r in rows] == [
        ("certificates.expires_1d", "certificate expires within 1 day", f"endpoint:{soon.pk}:cert:FP:soon")]
