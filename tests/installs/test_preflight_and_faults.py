"""Preflight judgement (thresholds, injected resolver), the fixture installer's own checks, a
fetched installer, and cancelling an install mid-command."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest

from harborops.core.actor import Actor
from harborops.core.jobs import request_cancel
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.installs import installers, services
from harborops.installs.models import STEPS, Install
from harborops.installs.preflight import FAIL, PASS, WARN, Thresholds, run_preflight
from harborops.ssh import client
from harborops.ssh.client import command, script
from tests.installs.fixtures import FILENAME
from tests.support.processes import free_port
from tests.support.sshd import FAKE_HOSTS, SSHD, as_test_user

pytestmark = [pytest.mark.embedded]
ACTOR = Actor.system("pytest")


@pytest.fixture
def ssh(sshd: SSHD) -> Iterator[client.Connection]:
    with client.Connection(client.Target(FAKE_HOSTS[0], sshd.port, sshd.user, sshd.private_key,
                                         pinned_key=sshd.host_public_key)) as conn:
        yield conn


def _by_name(checks: list) -> dict:
    return {c.name: c for c in checks}


def test_thresholds_grade_pass_warn_fail(ssh: client.Connection, sshd: SSHD):
    cpus = int(ssh.run("nproc").stdout)
    easy = _by_name(run_preflight(ssh, hostname=FAKE_HOSTS[0], data_volume=str(sshd.home / "nope" / "data"),
                                  ports=[free_port()], thresholds=Thresholds.parse("cpus=1:1,memory_gb=0.1:0.1,"
                                                                                    "disk_gb=0.1:0.1")))
    assert {n: c.status for n, c in easy.items()} == {
        "cpus": PASS, "memory": PASS, "disk": PASS, "docker": PASS, "compose": PASS, "openssl": PASS,
        "ports": PASS, "hostname": PASS}
    assert easy["docker"].value == "24.0.7" and easy["compose"].value == "2.21.0"  # the fixture shim
    hard = _by_name(run_preflight(ssh, hostname=FAKE_HOSTS[0], data_volume="/", ports=[],
                                  thresholds=Thresholds.parse(f"cpus={cpus}:{cpus + 1},memory_gb=100000:100000,"
                                                              "disk_gb=0:1000000")))
    assert hard["cpus"].status == WARN and hard["memory"].status == FAIL and hard["disk"].status == WARN
    assert "below the minimum" in hard["memory"].message


def test_the_hostname_check_uses_the_injected_resolver(ssh: client.Connection):
    def resolves(name: str) -> list[str]:
        return ["10.0.0.7"] if name == "harbor.example.test" else []

    def broken(name: str) -> list[str]:
        raise OSError("Name or service not known")

    common = {"data_volume": "/", "ports": [], "thresholds": Thresholds.parse("cpus=0:0")}
    ok = _by_name(run_preflight(ssh, hostname="harbor.example.test", resolver=resolves, **common))
    assert ok["hostname"].status == PASS and "10.0.0.7" in ok["hostname"].message
    bad = _by_name(run_preflight(ssh, hostname="harbor.example.test", resolver=broken, **common))
    assert bad["hostname"].status == FAIL and "does not resolve" in bad["hostname"].message
    default = _by_name(run_preflight(ssh, hostname="reg.mydomain.com", resolver=resolves, **common))
    assert default["hostname"].status == FAIL


def test_a_busy_port_fails_preflight(ssh: client.Connection):
    import socket

    with socket.socket() as sock:
        sock.bind((FAKE_HOSTS[0], 0))
        sock.listen()
        port = sock.getsockname()[1]
        checks = _by_name(run_preflight(ssh, hostname=FAKE_HOSTS[0], data_volume="/", ports=[port],
                                        thresholds=Thresholds.parse("cpus=0:0")))
    assert checks["ports"].status == FAIL and str(port) in checks["ports"].message


def test_the_fixture_install_sh_rejects_other_flags(ssh: client.Connection, workdir: Path, installer_file: Path):
    import shutil
    import subprocess

    shutil.copy(installer_file, workdir / FILENAME)
    subprocess.run(["chown", "-R", "harborops-ssh-test", str(workdir)], check=True)
    assert ssh.run(command("tar", "-xzf", str(workdir / FILENAME), "-C", str(workdir))).ok
    result = ssh.run(script("cd {} && ./install.sh --with-notary", str(workdir / "harbor")))
    assert result.exit_status == 1 and "Usage: install.sh [--with-trivy]" in result.stdout
    prepare = ssh.run(script("cd {} && ./prepare", str(workdir / "harbor")))
    assert prepare.exit_status == 1 and "no harbor.yml" in prepare.stdout


@pytest.fixture
def mirror(installer_file: Path) -> Iterator[str]:
    """An internal HTTP mirror serving the test installer on loopback."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(installer_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{installer_file.name}"
    server.shutdown()


@pytest.mark.django_db
def test_an_installer_fetched_by_the_host_is_verified(make_install: Callable[..., Install], mirror: str,
                                                      installer_file: Path, install_settings):
    from harborops.ssh.client import file_digests

    digests = file_digests(installer_file)
    fetched = installers.add_url(actor=ACTOR, url=mirror, checksum=f"{digests['md5']}  {installer_file.name}")
    install = make_install(name="harbor-fetched", installer=fetched)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = services.start_install(install, actor=ACTOR)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert (Path(install.install_dir) / FILENAME).read_bytes() == installer_file.read_bytes()

    wrong = installers.add_url(actor=ACTOR, url=mirror, checksum="0" * 64)
    other = make_install(name="harbor-wrong", installer=wrong, install_dir=install.install_dir + "-2")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = services.start_install(other, actor=ACTOR)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.FAILED and "checksum mismatch" in job.error


@pytest.mark.django_db(transaction=True)
def test_cancelling_stops_the_remote_install(make_install: Callable[..., Install]):
    install = make_install(name="harbor-cancel")
    as_test_user("mkdir", "-p", install.install_dir)
    as_test_user("touch", str(Path(install.install_dir) / "slow-install"))  # fixture: install.sh sleeps 20 s
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = services.start_install(install, actor=ACTOR)

    def cancel_when_slow() -> None:
        from django.db import connection

        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if Install.objects.get(pk=install.pk).targets.get().step_status("install") == "running":
                    time.sleep(1.5)
                    request_cancel(JobRun.objects.get(pk=job.pk), actor=ACTOR)
                    return
                time.sleep(0.1)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_slow)
    canceller.start()
    execute(job.pk)
    canceller.join()
    job.refresh_from_db()
    install.refresh_from_db()
    assert job.status == JobRun.Status.CANCELLED
    target = install.targets.get()
    assert target.step_status("install") == "cancelled" and target.step_status("verify") == "pending"
    assert install.status == Install.Status.CANCELLED
    time.sleep(1)
    assert not (Path(install.harbor_dir) / ".fixture-started").exists()
    assert [target.step_status(s) for s in STEPS[:4]] == ["done"] * 4
