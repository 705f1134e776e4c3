"""The ``use_sudo`` path of the trust push, over the real sshd, without giving anyone root.

The fixture (run as root by the test process) adds a second unprivileged user, ``harborops-sudo-target``,
and a sudoers rule that lets the SSH test user run commands *as that user only* (``runas_default``), so
``sudo -n -- sh -c …`` — exactly what the SSH layer sends for a host with ``use_sudo`` — really goes
through sudo. The fake root belongs to the sudo target and is read-only for the login user: a push
without sudo cannot write there; with sudo it can, and the file it leaves is owned by the sudo target.
"""

from __future__ import annotations

import pwd
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harborops.certificates.models import Endpoint, PullingHost, TrustState
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import trust
from harborops.core.actor import Actor
from harborops.ssh.models import SSHHost
from tests.certificates.tls_server import TLSServer
from tests.support.sshd import REAL_HOST, SSHD, TEST_USER

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("pytest")
SUDO_TARGET = "harborops-sudo-target"
SUDOERS = Path("/etc/sudoers.d/harborops-tests")
RULE = f"""# harborops tests (tests/certificates/test_trust_sudo.py): the unprivileged SSH test user may run
# commands as another unprivileged user only, never as root.
Defaults:{TEST_USER} runas_default={SUDO_TARGET}, !lecture
{TEST_USER} ALL=({SUDO_TARGET}) NOPASSWD: ALL
"""


@pytest.fixture(scope="session")
def sudo_target(sshd: SSHD) -> str:
    if shutil.which("sudo") is None or shutil.which("visudo") is None:
        raise RuntimeError("sudo is missing: scripts/ensure-debs.sh sudo (scripts/test.sh installs it)")
    try:
        pwd.getpwnam(SUDO_TARGET)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", SUDO_TARGET], check=True)
    if not SUDOERS.exists() or SUDOERS.read_text() != RULE:
        SUDOERS.parent.mkdir(mode=0o755, exist_ok=True)
        tmp = SUDOERS.with_name(".harborops-tests.tmp")
        tmp.write_text(RULE)
        tmp.chmod(0o440)
        subprocess.run(["visudo", "-cf", str(tmp)], check=True, capture_output=True)
        tmp.replace(SUDOERS)
    return SUDO_TARGET


@pytest.fixture
def sudo_root(sudo_target: str) -> Iterator[Path]:
    """A fake root owned by the sudo target (0755): the login user can read it, not write it."""
    path = Path("/var/tmp") / f"harborops-sudo-root-{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    shutil.chown(path, sudo_target, sudo_target)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Endpoint]:
    ca = ca_services.create_ca(actor=ACTOR, name="corp", key_type="ecp256", days=365)
    issued = ca_services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", days=30, key_type="ecp256")
    (tmp_path / "chain.crt").write_text(issued.chain_pem())
    (tmp_path / "server.key").write_text(issued.private_key)
    server = TLSServer(tmp_path / "chain.crt", tmp_path / "server.key", host="127.0.0.52").start()
    yield Endpoint.objects.create(label="harbor", host="127.0.0.52", port=server.port, server_name="harbor.test",
                                  trust_ca=ca)
    server.stop()


def _pulling(sshd: SSHD, root: Path, *, use_sudo: bool) -> PullingHost:
    host = SSHHost.objects.create(name=f"node-sudo-{use_sudo}", address=REAL_HOST, port=sshd.port,
                                  username=sshd.user, private_key=sshd.private_key, host_key=sshd.host_public_key,
                                  role="docker", use_sudo=use_sudo)
    return PullingHost.objects.create(host=host, runtime="docker", path_prefix=str(root))


def test_without_sudo_the_push_cannot_write_and_says_why(sshd: SSHD, sudo_root: Path, registry: Endpoint):
    cell = trust.push(_pulling(sshd, sudo_root, use_sudo=False), registry, say=lambda level, text: None)
    assert cell.state == TrustState.State.UNREACHABLE
    assert "Permission denied" in cell.message
    assert not (sudo_root / "etc").exists()


def test_with_use_sudo_the_push_writes_through_sudo_and_the_host_verifies(sshd: SSHD, sudo_root: Path,
                                                                          registry: Endpoint, sudo_target: str):
    node = _pulling(sshd, sudo_root, use_sudo=True)
    cell = trust.push(node, registry, say=lambda level, text: None)
    assert cell.state == TrustState.State.OK, cell.message
    ca_file = sudo_root / f"etc/docker/certs.d/harbor.test:{registry.port}/ca.crt"
    assert registry.trust_ca is not None and ca_file.read_text() == registry.trust_ca.certificate
    info = ca_file.stat()
    assert pwd.getpwuid(info.st_uid).pw_name == sudo_target  # written by sudo's user, not the login user
    assert stat.S_IMODE(info.st_mode) == 0o644
    assert trust.check(node, registry).state == TrustState.State.OK
