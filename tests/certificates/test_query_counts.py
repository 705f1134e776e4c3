"""Issue 15: the certificate pages and the attention API read a fixed number of queries whatever the number of
endpoints, files and trust cells, decrypt no secret to show them, and the expiry page goes page by page with
its bands, timeline, filters and sorting over every certificate the filters keep."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now
from rest_framework.test import APIClient

from harborops.certificates.models import Certificate, ChainEntry, DiskFile, Endpoint, PullingHost, TrustState
from harborops.core import crypto
from harborops.fleet.models import HAGroup, Instance
from harborops.installs.models import Install, Installer, InstallTarget
from harborops.ssh.models import SSHHost
from tests.support.queries import counts

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PAGES = ("/certificates/", "/certificates/?page=2", "/certificates/?sort=-endpoint", "/certificates/managed/",
         "/certificates/endpoints/", "/api/certificates/attention/")


def _cert(fp: str, days: float, cn: str) -> Certificate:
    at = now()
    return Certificate.objects.create(
        fingerprint=fp, pem="-", subject=f"CN={cn}", common_name=cn, issuer="CN=Corp CA", serial="1",
        not_before=at - dt.timedelta(days=300), not_after=at + dt.timedelta(days=days), dns_names=[cn],
        signature_algorithm="sha256WithRSAEncryption", key_type="RSA", key_size=2048)


def add_instances(first: int, last: int) -> None:
    """Instances first..last, each in an HA group, served by an endpoint (a 3-day certificate, a failed
    check), installed by harborops on a host with certificate files that differ from what is served, and
    pulled from by a host whose trust in it drifted."""
    installer = Installer.objects.get_or_create(filename="harbor-offline-installer-v2.13.1.tgz",
                                                version="2.13.1")[0]
    puller = PullingHost.objects.get_or_create(host=SSHHost.objects.get_or_create(
        name="puller", defaults={"address": "127.0.0.9", "username": "u", "private_key": "-----KEY-----"})[0])[0]
    for n in range(first, last + 1):
        group = HAGroup.objects.create(name=f"g{n}")
        inst = Instance.objects.create(name=f"h{n:02d}", url=f"https://h{n:02d}.test", username="admin",
                                       password="s3cret-pw", ha_group=group)
        endpoint = Endpoint.objects.create(label=f"h{n:02d}", host=f"h{n:02d}.test", instance=inst, source="instance",
                                           checks=[{"name": "hostname", "status": "fail", "message": "mismatch"}])
        cert = _cert(f"FP:{n}", 3 + n, f"h{n:02d}.test")
        ChainEntry.objects.create(endpoint=endpoint, certificate=cert, position=0)
        Endpoint.objects.filter(pk=endpoint.pk).update(leaf=cert)
        install = Install.objects.create(name=f"i{n}", installer=installer, admin_password="a", db_password="d",
                                         tls_private_key="k", status="succeeded")
        host = SSHHost.objects.create(name=f"host{n}", address="127.0.0.2", username="u", private_key="-----KEY-----")
        target = InstallTarget.objects.create(install=install, host=host, hostname=f"h{n:02d}.test", instance=inst)
        DiskFile.objects.create(target=target, kind="https_certificate", path="/c/server.crt", fingerprint="NEW",
                                served_fingerprint="OLD", matches_served=False, not_after=now() + dt.timedelta(days=2))
        TrustState.objects.create(pulling_host=puller, endpoint=endpoint, state="stale", message="another CA")


def _clients(vera: User) -> Callable[[str], object]:
    client, api = Client(), APIClient()
    client.force_login(vera)
    api.force_authenticate(vera)
    return lambda url: (api if url.startswith("/api/") else client).get(url)


def test_the_pages_read_as_many_queries_for_two_instances_as_for_six(vera: User) -> None:
    add_instances(1, 2)
    get = _clients(vera)
    few = counts(get, PAGES)
    add_instances(3, 6)
    assert counts(get, PAGES) == few
    attention = get("/api/certificates/attention/").json()  # type: ignore[attr-defined]
    assert {o["condition"] for o in attention} >= {"certificates.expires_7d", "certificates.chain_invalid",
                                                   "certificates.disk_differs", "certificates.trust_drift"}
    assert sum(o["condition"] == "certificates.trust_drift" for o in attention) == 6


def test_no_secret_is_decrypted_to_show_the_pages(vera: User) -> None:
    add_instances(1, 3)
    get = _clients(vera)
    with mock.patch.object(crypto, "decrypt", wraps=crypto.decrypt) as decrypt:
        counts(get, PAGES)
    assert decrypt.call_count == 0


def test_the_managed_page_names_each_member_s_ha_group(vera: User) -> None:
    add_instances(1, 2)
    page = Client()
    page.force_login(vera)
    body = page.get("/certificates/managed/").content.decode()
    assert "HA group g1" in body and "HA group g2" in body


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-fingerprint="([^"]+)"', html)


def test_the_expiry_page_goes_page_by_page_with_bands_filters_and_sorting_over_all(vera: User) -> None:
    for n in range(60):  # 30 expired, 7 within 7 days, 23 within 30; labels in the opposite order of expiry
        endpoint = Endpoint.objects.create(label=f"ep-{59 - n:02d}", host=f"e{n}.test")
        ChainEntry.objects.create(endpoint=endpoint, certificate=_cert(f"F{n:02d}", -29.5 + n, f"e{n}.test"),
                                  position=0)
    client = Client()
    client.force_login(vera)
    first = client.get("/certificates/").content.decode()
    assert _rows(first) == [f"F{n:02d}" for n in range(50)] and "1–50 of 60" in first
    assert 'data-band="expired" href="?band=expired">Expired: <b>30</b>' in first  # every match, not the page
    assert 'data-label="expired" data-count="30"' in first
    second = client.get("/certificates/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert _rows(second) == [f"F{n:02d}" for n in range(50, 60)] and "<html" not in second
    by_label = client.get("/certificates/?sort=endpoint&page=2").content.decode()
    assert _rows(by_label) == [f"F{n:02d}" for n in range(9, -1, -1)]  # ep-50 .. ep-59 are the 10 soonest
    assert "sort=endpoint&amp;page=1" in by_label
    expired = client.get("/certificates/?band=expired&page=1").content.decode()
    assert _rows(expired) == [f"F{n:02d}" for n in range(30)] and 'id="expiry-pager"' not in expired
    assert 'Expired: <b>30</b>' in expired and '&lt; 30 days: <b>0</b>' in expired


def test_the_expiry_page_lists_the_most_severe_conditions_and_counts_them_all(vera: User) -> None:
    for n in range(56):  # one expired (critical), 55 expiring within 7 days (warning)
        endpoint = Endpoint.objects.create(label=f"ep-{n:02d}", host=f"e{n}.test")
        ChainEntry.objects.create(endpoint=endpoint, certificate=_cert(f"F{n:02d}", 3 if n else -1, f"e{n}.test"),
                                  position=0)
    client = Client()
    client.force_login(vera)
    page = client.get("/certificates/").content.decode()
    listed = re.findall(r'<tr data-condition="([^"]+)" data-severity="([^"]+)"', page)
    assert len(listed) == 50 and listed[0] == ("certificates.expired", "critical")
    assert "56, the 50 most severe shown" in page
