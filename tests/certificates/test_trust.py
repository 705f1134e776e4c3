"""CA trust pushed to a pulling host over the real sshd (an unprivileged user, a fake root as path
prefix), verified by the host's own `openssl s_client` against a real TLS server."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.certificates.models import Endpoint, IssuedCertificate, ManagedCA, PullingHost, TrustState
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import trust
from harborops.certificates.tasks import start_trust_push
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.ssh.models import SSHHost
from tests.certificates.tls_server import TLSServer
from tests.support.sshd import REAL_HOST, SSHD, as_test_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("pytest")
S = TrustState.State


@dataclass
class Registry:
    ca: ManagedCA
    issued: IssuedCertificate
    server: TLSServer
    endpoint: Endpoint


def _serve(tmp_path: Path, ca: ManagedCA, address: str) -> tuple[IssuedCertificate, TLSServer]:
    issued = ca_services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", days=30, key_type="ecp256")
    chain, key = tmp_path / f"{ca.pk}-chain.crt", tmp_path / f"{ca.pk}.key"
    chain.write_text(issued.chain_pem())
    key.write_text(issued.private_key)
    return issued, TLSServer(chain, key, host=address).start()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    ca = ca_services.create_ca(actor=ACTOR, name="corp", key_type="ecp256", days=365)
    issued, server = _serve(tmp_path, ca, "127.0.0.50")
    endpoint = Endpoint.objects.create(label="harbor", host="127.0.0.50", port=server.port,
                                       server_name="harbor.test", trust_ca=ca)
    yield Registry(ca, issued, server, endpoint)
    server.stop()


@pytest.fixture
def pulling(sshd: SSHD, fake_root: Path) -> Callable[..., PullingHost]:
    def make(runtime: str = "docker", *, name: str = "node-1", port: int | None = None) -> PullingHost:
        host, _ = SSHHost.objects.get_or_create(name=name, defaults={
            "address": REAL_HOST, "port": port or sshd.port, "username": sshd.user, "private_key": sshd.private_key,
            "host_key": sshd.host_public_key, "role": "docker"})
        return PullingHost.objects.create(host=host, runtime=runtime, path_prefix=str(fake_root))

    return make


def say(level: str, text: str) -> None:
    print(level, text)


def test_a_push_writes_the_ca_where_docker_reads_it_and_the_host_verifies_it(
        registry: Registry, pulling: Callable[..., PullingHost], fake_root: Path):
    node = pulling("docker")
    cell = trust.push(node, registry.endpoint, say=say)
    assert cell.state == S.OK, cell.message
    ca_file = fake_root / f"etc/docker/certs.d/harbor.test:{registry.server.port}/ca.crt"
    assert ca_file.read_text() == registry.ca.certificate
    assert stat.S_IMODE(ca_file.stat().st_mode) == 0o644
    assert cell.path == str(ca_file) and "verified harbor.test" in cell.message
    assert trust.check(node, registry.endpoint).state == S.OK
    assert not list(ca_file.parent.glob("ca.crt.bak-*"))  # the same content again: no backup
    assert trust.push(node, registry.endpoint, say=say).state == S.OK
    assert not list(ca_file.parent.glob("ca.crt.bak-*"))


def test_drift_shows_as_stale_wrong_directory_and_missing_and_a_push_repairs_with_a_backup(
        registry: Registry, pulling: Callable[..., PullingHost], fake_root: Path):
    node = pulling("docker")
    assert trust.check(node, registry.endpoint).state == S.MISSING
    right = fake_root / f"etc/docker/certs.d/harbor.test:{registry.server.port}"
    wrong = fake_root / "etc/docker/certs.d/harbor.test"  # port 443's directory, for a registry elsewhere
    as_test_user("mkdir", "-p", str(wrong))
    as_test_user("cp", "/dev/null", str(wrong / "ca.crt"))
    cell = trust.check(node, registry.endpoint)
    assert cell.state == S.WRONG_DIRECTORY and f"harbor.test:{registry.server.port}" in cell.message
    other = ca_services.create_ca(actor=ACTOR, name="other", key_type="ecp256", days=30)
    as_test_user("mkdir", "-p", str(right))
    (right / "stale.pem").write_text(other.certificate)
    as_test_user("cp", str(right / "stale.pem"), str(right / "ca.crt"))
    assert trust.check(node, registry.endpoint).state == S.STALE
    assert trust.push(node, registry.endpoint, say=say).state == S.OK
    backups = list(right.glob("ca.crt.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == other.certificate
    assert (right / "ca.crt").read_text() == registry.ca.certificate


def test_containerd_gets_hosts_toml_and_podman_its_own_directory(
        registry: Registry, pulling: Callable[..., PullingHost], fake_root: Path):
    for runtime in ("containerd", "podman"):
        assert trust.push(pulling(runtime), registry.endpoint, say=say).state == S.OK
    d = fake_root / f"etc/containerd/certs.d/harbor.test:{registry.server.port}"
    toml = (d / "hosts.toml").read_text()
    assert f'server = "https://harbor.test:{registry.server.port}"' in toml
    assert f'ca = "/etc/containerd/certs.d/harbor.test:{registry.server.port}/ca.crt"' in toml
    assert (d / "ca.crt").read_text() == registry.ca.certificate
    assert (fake_root / f"etc/containers/certs.d/harbor.test:{registry.server.port}/ca.crt").exists()
    assert trust.directory_name("harbor.test", 443) == "harbor.test"


def test_a_registry_signed_by_another_ca_fails_verification_on_the_host(
        registry: Registry, pulling: Callable[..., PullingHost], tmp_path: Path):
    impostor_ca = ca_services.create_ca(actor=ACTOR, name="impostor", key_type="ecp256", days=90)
    _, server = _serve(tmp_path, impostor_ca, "127.0.0.51")
    try:
        endpoint = Endpoint.objects.create(label="mitm", host="127.0.0.51", port=server.port,
                                           server_name="harbor.test", trust_ca=registry.ca)
        cell = trust.push(pulling("docker"), endpoint, say=say)
    finally:
        server.stop()
    assert cell.state == S.VERIFY_FAILED and "verif" in cell.message.lower(), cell.message


def test_an_unreachable_host_or_registry_is_a_cell_not_a_crash(registry: Registry,
                                                                pulling: Callable[..., PullingHost]):
    dead = pulling("docker", name="dead", port=9)
    assert trust.push(dead, registry.endpoint, say=say).state == S.UNREACHABLE
    gone = Endpoint.objects.create(label="gone", host="127.0.0.52", port=9, server_name="harbor.test",
                                   trust_ca=registry.ca)
    cell = trust.push(pulling("docker"), gone, say=say)
    assert cell.state == S.UNREACHABLE, cell.message


def test_hostile_names_stay_arguments_on_the_remote_shell(registry: Registry, pulling: Callable[..., PullingHost],
                                                          sshd: SSHD, fake_root: Path):
    canary = sshd.home / "trust-canary"
    hostile = f"x$(touch {canary});touch {canary}`touch {canary}`"
    endpoint = Endpoint.objects.create(label="hostile", host="127.0.0.50", port=registry.server.port,
                                       server_name=hostile, trust_ca=registry.ca)
    pushed = trust.push(pulling("docker"), endpoint, say=say)
    checked = trust.check(PullingHost.objects.get(), endpoint)
    assert not canary.exists()
    # The file landed and its hash matched (no "stale"); only the handshake fails: the name is no SAN.
    assert (pushed.state, checked.state) == (S.VERIFY_FAILED, S.VERIFY_FAILED), (pushed.message, checked.message)
    assert (fake_root / "etc/docker/certs.d" / f"{hostile}:{registry.server.port}" / "ca.crt").exists()


def test_the_push_job_logs_each_step_and_no_restart_for_docker(registry: Registry,
                                                               pulling: Callable[..., PullingHost]):
    node = pulling("docker")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_trust_push(actor=ACTOR, pulling_ids=[node.pk], endpoint_ids=[registry.endpoint.pk])
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    log = "\n".join(JobLogLine.objects.filter(job=job).values_list("text", flat=True))
    assert "sha256 matches" in log and "no daemon restart needed" in log and "verified harbor.test" in log
    assert "PRIVATE KEY" not in log


def test_the_matrix_page_and_api_show_cells_and_one_click_repushes(
        registry: Registry, pulling: Callable[..., PullingHost], alice: User, bob: User, vera: User):
    node = pulling("docker")
    viewer = Client()
    viewer.force_login(vera)
    page = viewer.get("/certificates/trust/").content.decode()
    assert 'data-state="unchecked"' in page and "Push" not in page.split('id="trust-matrix"')[1]
    api = APIClient()
    api.force_login(bob)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        check = api.post("/api/certificates/trust/check/")
    execute(check.json()["id"])
    cells = APIClient()
    cells.force_login(vera)
    assert [c["state"] for c in cells.get("/api/certificates/trust/").json()["results"]] == ["missing"]
    operator = Client()
    operator.force_login(bob)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = operator.post("/certificates/trust/push/", {"pulling_host": node.pk, "endpoint": registry.endpoint.pk})
    job = JobRun.objects.get(kind="certificates.trust_push")
    assert r["Location"] == f"/jobs/{job.pk}/" and job.params == {"pulling_hosts": [node.pk],
                                                                   "endpoints": [registry.endpoint.pk]}
    execute(job.pk)
    page = viewer.get("/certificates/trust/").content.decode()
    assert 'data-endpoint="harbor" data-state="ok"' in page
    assert ActionLogEntry.objects.filter(action="certificates.trust.push", actor_name="bob").exists()
    admin = APIClient()
    admin.force_login(alice)
    dup = admin.post("/api/certificates/pulling-hosts/", {"host": node.host_id, "runtime": "docker"}, format="json")
    assert dup.status_code == 400 and "already has docker" in str(dup.json())
    relative = admin.post("/api/certificates/pulling-hosts/", {"host": node.host_id, "runtime": "podman",
                                                              "path_prefix": "srv/x"}, format="json")
    assert relative.status_code == 400 and "absolute path" in str(relative.json())
