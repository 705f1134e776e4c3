"""SSH hosts: services, pages and API, against the real sshd."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.ssh import client, services
from harborops.ssh.models import SSHHost
from tests.support.sshd import FAKE_HOSTS, SSHD

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ACTOR = Actor.system("pytest")


def test_it_adds_a_host_with_an_encrypted_key_and_scans_without_accepting(sshd: SSHD, alice: User):
    c = Client()
    c.force_login(alice)
    r = c.post("/ssh/add/", {"name": "harbor-a", "address": FAKE_HOSTS[0], "port": sshd.port,
                             "username": sshd.user, "role": "harbor", "private_key": sshd.private_key})
    assert r.status_code == 302
    host = SSHHost.objects.get()
    assert host.private_key == sshd.private_key
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT private_key FROM ssh_sshhost")
        stored = cur.fetchone()[0]
    assert "PRIVATE KEY" not in stored  # ciphertext at rest
    assert host.host_key == ""  # never auto-accepted
    assert host.key_state == "pending" and host.offered_fingerprint == sshd.host_key_fingerprint()
    page = c.get(f"/ssh/{host.pk}/").content.decode()
    assert sshd.host_key_fingerprint() in page and "PRIVATE KEY" not in page
    assert "OPENSSH" not in page
    entry = ActionLogEntry.objects.get(action="ssh.host.create")
    assert entry.after["private_key"].startswith("ssh-ed25519 SHA256:")
    assert ActionLogEntry.objects.filter(action="ssh.host.scan_key").exists()


def test_a_check_needs_an_accepted_key_then_works(make_host: Callable[..., SSHHost], sshd: SSHD):
    host = make_host(accepted=False)
    result = services.check_host(host)
    assert not result.ok and "not accepted yet" in result.message
    scan = services.scan_host_key(host, actor=ACTOR)
    assert scan.state == "pending"
    with pytest.raises(Exception, match="scan again and compare"):
        services.accept_host_key(host, actor=ACTOR, fingerprint="SHA256:somethingelse")
    services.accept_host_key(host, actor=ACTOR, fingerprint=scan.fingerprint)
    host.refresh_from_db()
    assert host.key_state == "accepted" and host.host_key == sshd.host_public_key
    result = services.check_host(host)
    assert result.ok, result.message
    assert sshd.user in result.message
    entry = ActionLogEntry.objects.get(action="ssh.host.accept_key")
    assert entry.after == {"host_key": sshd.host_key_fingerprint()}


def test_a_changed_host_key_refuses_with_old_and_new_fingerprints(make_host: Callable[..., SSHHost], sshd: SSHD):
    host = make_host(host_key=sshd.other_host_public_key)
    old = client.fingerprint(sshd.other_host_public_key.split()[1])
    result = services.check_host(host)
    assert not result.ok
    assert old in result.message and sshd.host_key_fingerprint() in result.message
    scan = services.scan_host_key(host, actor=ACTOR)
    assert scan.state == "changed" and old in scan.message
    host.refresh_from_db()
    assert host.key_state == "changed" and host.host_key == sshd.other_host_public_key  # still pinned to the old


def test_the_check_job_streams_into_the_job_log(make_host: Callable[..., SSHHost], sshd: SSHD):
    from harborops.ssh.tasks import start_check

    host = make_host()
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_check(actor=ACTOR, host=host)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    lines = list(JobLogLine.objects.filter(job=job).values_list("level", "text"))
    assert ("stdout", sshd.user) in lines
    assert any(level == "stdout" and text.startswith("Linux") for level, text in lines)


def test_the_check_job_fails_on_a_changed_key(make_host: Callable[..., SSHHost], sshd: SSHD):
    from harborops.ssh.tasks import start_check

    host = make_host(host_key=sshd.other_host_public_key)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_check(actor=ACTOR, host=host)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.FAILED and "REFUSED" in job.error


def test_changing_the_address_forgets_the_pinned_key(make_host: Callable[..., SSHHost]):
    host = make_host()
    services.update_host(host, actor=ACTOR, address=FAKE_HOSTS[1], private_key="")
    host.refresh_from_db()
    assert host.host_key == "" and host.private_key  # blank key keeps the stored one


def test_it_rejects_an_unreadable_private_key(alice: User, sshd: SSHD):
    c = Client()
    c.force_login(alice)
    r = c.post("/ssh/add/", {"name": "x", "address": FAKE_HOSTS[0], "port": sshd.port, "username": "u",
                             "role": "harbor", "private_key": "not a key"})
    assert r.status_code == 200 and "cannot read the private key" in r.content.decode()
    assert not SSHHost.objects.exists()


def test_the_pages_accept_a_key_and_start_a_check(make_host: Callable[..., SSHHost], alice: User, sshd: SSHD):
    host = make_host(accepted=False)
    c = Client()
    c.force_login(alice)
    c.post(f"/ssh/{host.pk}/scan-key/")
    page = c.get(f"/ssh/{host.pk}/").content.decode()
    assert "Accept " + sshd.host_key_fingerprint() in page
    c.post(f"/ssh/{host.pk}/accept-key/", {"fingerprint": sshd.host_key_fingerprint()})
    host.refresh_from_db()
    assert host.key_state == "accepted"
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = c.post(f"/ssh/{host.pk}/check/")
    job = JobRun.objects.get(kind="ssh.check")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert "harbor-a" in c.get("/ssh/").content.decode()


def _api(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def test_the_api_manages_hosts_and_keys(alice: User, bob: User, sshd: SSHD):
    api = _api(alice)
    r = api.post("/api/ssh/hosts/", {"name": "harbor-b", "address": FAKE_HOSTS[1], "port": sshd.port,
                                     "username": sshd.user, "private_key": sshd.private_key}, format="json")
    assert r.status_code == 201, r.content
    body: dict[str, Any] = r.json()
    assert "private_key" not in body and body["has_private_key"] is True and body["key_state"] == "unknown"
    pk = body["id"]
    scan = api.post(f"/api/ssh/hosts/{pk}/scan-key/").json()
    assert scan["state"] == "pending" and scan["fingerprint"] == sshd.host_key_fingerprint()
    bad = api.post(f"/api/ssh/hosts/{pk}/accept-key/", {"fingerprint": "SHA256:nope"}, format="json")
    assert bad.status_code == 400
    ok = api.post(f"/api/ssh/hosts/{pk}/accept-key/", {"fingerprint": scan["fingerprint"]}, format="json")
    assert ok.status_code == 200 and ok.json()["key_state"] == "accepted"
    assert _api(bob).post(f"/api/ssh/hosts/{pk}/accept-key/", {"fingerprint": "x"}, format="json").status_code == 403
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = _api(bob).post(f"/api/ssh/hosts/{pk}/check/")
    assert job.status_code == 202
    execute(job.json()["id"])
    assert SSHHost.objects.get(pk=pk).last_check_ok is True
    patched = api.patch(f"/api/ssh/hosts/{pk}/", {"notes": "rack 4", "private_key": ""}, format="json")
    assert patched.status_code == 200 and SSHHost.objects.get(pk=pk).private_key == sshd.private_key
    assert api.delete(f"/api/ssh/hosts/{pk}/").status_code == 204
    actions = set(ActionLogEntry.objects.values_list("action", flat=True))
    assert {"ssh.host.create", "ssh.host.scan_key", "ssh.host.accept_key", "ssh.host.update",
            "ssh.host.delete"} <= actions


def test_a_host_an_install_targets_is_not_removed_and_the_install_is_named(db: None):
    """The SSH layer asks the registered providers (installs registers one in its ready()); it imports no
    feature (tests/ssh/test_layering.py)."""
    from harborops.installs.models import Install, Installer, InstallTarget
    from harborops.ssh import uses

    host = SSHHost.objects.create(name="harbor-a", address="127.0.0.1", port=9, username="x")
    installer = Installer.objects.create(filename="harbor-offline-installer-v2.13.1.tgz", version="2.13.1")
    for name in ("harbor-prod", "harbor-dr"):
        install = Install.objects.create(name=name, installer=installer, admin_password="a", db_password="d")
        InstallTarget.objects.create(install=install, host=host, hostname="harbor.test")
    assert "installs" in uses._providers
    with pytest.raises(services.ValidationError) as refused:
        services.delete_host(host, actor=ACTOR)
    assert refused.value.message_dict == {
        "host": ["harbor-a is a target of the install(s) harbor-dr, harbor-prod: delete those first"]}
    assert SSHHost.objects.filter(pk=host.pk).exists()
    assert not ActionLogEntry.objects.filter(action="ssh.host.delete").exists()
    InstallTarget.objects.all().delete()
    services.delete_host(host, actor=ACTOR)  # nothing uses it any more
    assert not SSHHost.objects.filter(pk=host.pk).exists()
