"""Rotation from the pages and the API, and the private key that must never show: not in the job log
(even when a remote tool prints it), the job row, the rotation's rows, the action log, pages, API or logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.certificates.models import Deployment, IssuedCertificate, ManagedCA
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import disk, scan
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from tests.certificates.managed_host import ManagedHost
from tests.support.sshd import FAKE_HOSTS

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("pytest")


@pytest.fixture(autouse=True)
def _no_getcert(no_getcert: None) -> None:
    pass


@pytest.fixture
def ca(db: None) -> ManagedCA:
    return ca_services.create_ca(actor=ACTOR, name="corp", key_type="ecp256", days=365)


def issue(ca: ManagedCA, days: int = 30) -> IssuedCertificate:
    return ca_services.issue_certificate(ca, actor=ACTOR, hostname=FAKE_HOSTS[0], days=days, key_type="ecp256")


def _key_lines(pem: str) -> list[str]:
    return [ln for ln in pem.splitlines() if ln.strip() and "-----" not in ln]


def test_the_pages_rotate_and_renew_and_show_files_and_rotations(
        alice: User, vera: User, ca: ManagedCA, managed_hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca)
    host = managed_hosts(FAKE_HOSTS[0], old, name="pages")
    scan.scan_all()
    disk.observe_all()
    viewer = Client()
    viewer.force_login(vera)
    page = viewer.get("/certificates/managed/").content.decode()
    assert 'data-kind="https_certificate"' in page and 'data-matches="yes"' in page
    assert "data-renew" not in page  # viewers see no buttons
    endpoint_page = viewer.get(f"/certificates/endpoints/{host.instance.tls_endpoints.get().pk}/").content.decode()
    assert str(host.cert_file) in endpoint_page and 'id="rotate"' not in endpoint_page

    admin = Client()
    admin.force_login(alice)
    form = admin.get(f"/certificates/managed/{host.instance.pk}/rotate/").content.decode()
    assert host.target.host.name in form and old.fingerprint[:17] in form
    new = issue(ca, 60)
    response = admin.post(f"/certificates/managed/{host.instance.pk}/rotate/", {"issued": new.pk})
    deployment = Deployment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/certificates/rotations/{deployment.pk}/"
    assert deployment.job is not None
    execute(deployment.job.pk)
    detail = viewer.get(f"/certificates/rotations/{deployment.pk}/").content.decode()
    assert 'data-status="succeeded"' in detail and new.fingerprint in detail

    response = admin.post(f"/certificates/managed/{host.instance.pk}/renew/")
    renewal = Deployment.objects.exclude(pk=deployment.pk).get()
    assert renewal.renewal_of == new and response["Location"] == f"/certificates/rotations/{renewal.pk}/"
    assert renewal.job is not None
    execute(renewal.job.pk)
    renewal.refresh_from_db()
    assert renewal.status == Deployment.Status.SUCCEEDED
    listing = viewer.get("/certificates/managed/").content.decode()
    assert f"#{renewal.pk}" in listing and f"#{deployment.pk}" in listing


def test_the_api_rotates_renews_and_lists_files(
        alice: User, vera: User, ca: ManagedCA, managed_hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca)
    host = managed_hosts(FAKE_HOSTS[0], old, name="api")
    api = APIClient()
    api.force_authenticate(vera)
    assert api.post("/api/certificates/rotations/", {"instance_id": host.instance.pk, "issued_id": old.pk},
                    format="json").status_code == 403
    api.force_authenticate(alice)
    new = issue(ca, 60)
    created = api.post("/api/certificates/rotations/", {"instance_id": host.instance.pk, "issued_id": new.pk},
                       format="json")
    assert created.status_code == 202, created.content
    body = created.json()
    assert body["status"] == "pending" and body["members"][0]["host"] == host.target.host.name
    execute(body["job"])
    got = api.get(f"/api/certificates/rotations/{body['id']}/").json()
    assert got["status"] == "succeeded" and got["members"][0]["new_fingerprint"] == new.fingerprint
    assert got["members"][0]["old_fingerprint"] == old.fingerprint
    files = api.get("/api/certificates/disk-files/", {"kind": "https_certificate"}).json()
    rows = files["results"] if isinstance(files, dict) else files
    assert [(r["path"], r["fingerprint"], r["matches_served"]) for r in rows] == [
        (str(host.cert_file), new.fingerprint, True)]
    renewed = api.post("/api/certificates/rotations/renew/", {"instance_id": host.instance.pk}, format="json")
    assert renewed.status_code == 202 and renewed.json()["renewal_of"] == new.pk
    refused = api.post("/api/certificates/rotations/", {"instance_id": host.instance.pk, "issued_id": 999999},
                       format="json")
    assert refused.status_code == 400 and "issued_id" in refused.json()  # the body names it: a 400, not a 404
    unknown = api.post("/api/certificates/rotations/renew/", {"instance_id": 999999}, format="json")
    assert unknown.status_code == 400 and "instance_id" in unknown.json()


def test_the_rotation_key_never_shows_even_when_a_remote_tool_prints_it(
        alice: User, ca: ManagedCA, managed_hosts: Callable[..., ManagedHost],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host = managed_hosts(FAKE_HOSTS[0], issue(ca), name="canary")
    # A careless ./prepare that prints the key it was given (the scrubber must stop it).
    real = host.harbor_dir / "prepare.real"
    (host.harbor_dir / "prepare").rename(real)
    (host.harbor_dir / "prepare").write_text(f"#!/bin/sh\ncat {host.cert_file.with_name('server.key')}\n"
                                             'exec "$(dirname "$0")/prepare.real" "$@"\n')
    (host.harbor_dir / "prepare").chmod(0o755)
    import shutil
    shutil.chown(host.harbor_dir / "prepare", "harborops-ssh-test")
    new = issue(ca, 60)
    canaries = _key_lines(new.private_key)
    assert canaries

    admin = Client()
    admin.force_login(alice)
    admin.post(f"/certificates/managed/{host.instance.pk}/rotate/", {"issued": new.pk})
    deployment = Deployment.objects.get()
    assert deployment.job is not None
    execute(deployment.job.pk)
    job = JobRun.objects.get(pk=deployment.job.pk)
    assert job.status == JobRun.Status.SUCCEEDED
    lines = list(JobLogLine.objects.filter(job=job).values_list("text", flat=True))
    assert any("line withheld" in ln for ln in lines)  # the key did reach the output, and was stopped

    api = APIClient()
    api.force_authenticate(alice)
    seen = "\n".join([
        *lines, job.summary, job.error, str(job.params), str(deployment.members),
        *(f"{a.before} {a.after} {a.message}" for a in ActionLogEntry.objects.all()),
        admin.get(f"/certificates/rotations/{deployment.pk}/").content.decode(),
        admin.get("/certificates/managed/").content.decode(),
        admin.get(f"/jobs/{job.pk}/").content.decode(),
        api.get(f"/api/certificates/rotations/{deployment.pk}/").content.decode(),
        api.get("/api/certificates/disk-files/").content.decode(),
        api.get(f"/api/jobs/{job.pk}/").content.decode(),
        caplog.text])
    for canary in canaries:
        assert canary not in seen
