"""Installs through the API and the pages: streaming uploads, the wizard, start and retry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.installs import installers
from harborops.installs.models import Install, Installer
from harborops.ssh.client import file_digests
from harborops.ssh.models import SSHHost
from tests.installs.fixtures import SimStarter
from tests.support.processes import free_port
from tests.support.sshd import FAKE_HOSTS, as_test_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _api(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def test_the_page_upload_streams_to_disk_and_checks_the_checksum(alice: User, installer_file: Path,
                                                                  install_settings):
    c = Client()
    c.force_login(alice)
    digests = file_digests(installer_file)
    with installer_file.open("rb") as fh, mock.patch.object(installers.InstallerUploadHandler, "chunk_size",
                                                            64 * 1024), mock.patch.object(
            installers.InstallerUploadHandler, "receive_data_chunk", autospec=True,
            side_effect=installers.InstallerUploadHandler.receive_data_chunk) as chunks:
        r = c.post("/installs/installers/upload/",
                   {"installer": fh, "checksum": f"{digests['md5']}  {installer_file.name}"})
    assert r.status_code == 302
    installer = Installer.objects.get()
    assert installer.sha256 == digests["sha256"] and installer.md5 == digests["md5"]
    assert installer.version == "2.13.1" and installer.kind == "offline"
    assert Path(installer.path).read_bytes() == installer_file.read_bytes()
    assert chunks.call_count > 1  # written chunk by chunk, never whole
    assert ActionLogEntry.objects.filter(action="installs.installer.upload").exists()


def test_the_page_upload_refuses_a_bad_name_or_checksum(alice: User, tmp_path: Path, installer_file: Path,
                                                       install_settings):
    c = Client()
    c.force_login(alice)
    bad = tmp_path / "harbor-installer.tar.gz"
    bad.write_bytes(b"x" * 100)
    with bad.open("rb") as fh:
        r = c.post("/installs/installers/upload/", {"installer": fh}, follow=True)
    assert "is not a Harbor installer name" in r.content.decode()
    with installer_file.open("rb") as fh:
        r = c.post("/installs/installers/upload/", {"installer": fh, "checksum": "0" * 64}, follow=True)
    assert "checksum mismatch" in r.content.decode()
    assert not Installer.objects.exists()
    assert [p.name for p in Path(install_settings.INSTALLER_DIR).iterdir()] == []  # nothing left behind


def test_the_api_installs_retries_and_reports(alice: User, bob: User, vera: User, installer_file: Path,
                                             install_settings, sshd, workdir: Path, sims: SimStarter):
    api = _api(alice)
    with installer_file.open("rb") as fh:
        up = api.post("/api/installs/installers/", {"installer": fh}, format="multipart")
    assert up.status_code == 201, up.content
    assert up.json()["sha256"] == file_digests(installer_file)["sha256"]
    host = SSHHost.objects.create(name="api-host", address=FAKE_HOSTS[1], port=sshd.port, username=sshd.user,
                                  private_key=sshd.private_key, host_key=sshd.host_public_key)
    port = free_port(FAKE_HOSTS[1])
    created = api.post("/api/installs/", {
        "name": "harbor-api", "installer": up.json()["id"], "hosts": [{"host": host.pk}],
        "install_dir": str(workdir / "inst"), "data_volume": str(workdir / "data"), "http_port": port},
        format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "admin_password" not in body and "db_password" not in body
    assert body["targets"][0]["hostname"] == FAKE_HOSTS[1]
    sims.watch(workdir / "inst" / "harbor")
    as_test_user("mkdir", "-p", str(workdir / "inst"))
    as_test_user("touch", str(workdir / "inst" / "fail-install-once"))
    assert _api(vera).post(f"/api/installs/{body['id']}/start/").status_code == 403
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = _api(bob).post(f"/api/installs/{body['id']}/start/", {}, format="json")
    assert job.status_code == 202
    execute(job.json()["id"])
    state = api.get(f"/api/installs/{body['id']}/").json()
    assert state["status"] == "failed" and state["targets"][0]["failed_step"] == "install"
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        retry = _api(bob).post(f"/api/installs/{body['id']}/start/", {}, format="json")
    execute(retry.json()["id"])
    state = api.get(f"/api/installs/{body['id']}/").json()
    assert state["status"] == "succeeded", JobRun.objects.get(pk=retry.json()["id"]).error
    assert state["targets"][0]["instance"] == Instance.objects.get(name="harbor-api").pk
    assert "********" in state["targets"][0]["config_diff"]
    assert {c["name"] for c in state["targets"][0]["preflight"]} >= {"cpus", "memory", "disk", "docker", "ports"}
    running = Install.objects.get(pk=body["id"])
    assert running.admin_password not in str(state)


def test_the_wizard_creates_and_starts_an_install(alice: User, install_settings, sshd, stored_installer: Installer,
                                                 host_for: Callable[..., SSHHost]):
    host = host_for()
    c = Client()
    c.force_login(alice)
    assert "api-host" not in c.get("/installs/new/").content.decode()
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = c.post("/installs/new/", {
            "name": "harbor-wiz", "installer": stored_installer.pk, "hosts": [host.pk], "hostnames": "harbor.test",
            "install_dir": "/opt/harbor-installer", "data_volume": "/data", "http_port": 80, "https_port": 443,
            "start": "1"})
    assert r.status_code == 302, r.content.decode()[-2000:]
    install = Install.objects.get(name="harbor-wiz")
    assert install.status == Install.Status.RUNNING and install.last_job is not None
    assert install.targets.get().hostname == "harbor.test"
    page = c.get(f"/installs/{install.pk}/").content.decode()
    assert "Preflight checks" in page and f"job #{install.last_job.pk}" in page
    assert install.admin_password not in page


def test_https_needs_a_certificate(alice: User, install_settings, stored_installer: Installer,
                                   host_for: Callable[..., SSHHost]):
    c = Client()
    c.force_login(alice)
    r = c.post("/installs/new/", {
        "name": "harbor-tls", "installer": stored_installer.pk, "hosts": [host_for().pk],
        "install_dir": "/opt/x", "data_volume": "/data", "http_port": 80, "https_port": 443, "https_enabled": "on"})
    assert r.status_code == 200 and "https needs a certificate" in r.content.decode()


def test_the_detail_page_offers_retry_to_operators_only(bob: User, vera: User, stored_installer: Installer,
                                                        host_for: Callable[..., SSHHost]):
    install = Install.objects.create(name="harbor-page", installer=stored_installer, admin_password="Secret-1x",
                                     db_password="Secret-2y", status=Install.Status.FAILED)
    install.last_job = JobRun.objects.create(kind="installs.run", status=JobRun.Status.FAILED,
                                             error="host-a: install failed: ./install.sh exited with 1")
    install.save()
    install.targets.create(host=host_for(), hostname="harbor.test", steps={
        "preflight": {"status": "done"}, "installer": {"status": "done"}, "config": {"status": "done"},
        "prepare": {"status": "done"}, "install": {"status": "failed", "detail": "./install.sh exited with 1"}})
    c = Client()
    c.force_login(bob)
    page = c.get(f"/installs/{install.pk}/").content.decode()
    assert "Retry from the failed step" in page and 'data-step="install" data-status="failed"' in page
    assert "./install.sh exited with 1" in page and "Secret-1x" not in page
    c.force_login(vera)
    assert "Retry from the failed step" not in c.get(f"/installs/{install.pk}/").content.decode()
    steps = c.get(f"/installs/{install.pk}/steps/").content.decode()
    assert 'hx-get' not in steps  # the job ended: the poll stops
