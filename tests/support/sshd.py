"""A real OpenSSH sshd for the SSH and install tests, and the unprivileged user it logs in as.

Every remote command of the tests runs as ``harborops-ssh-test``, a normal user with no sudo:
a quoting bug can touch only that user's files, never the machine running the tests.

The sshd listens on three loopback "hosts" (same port):

* 127.0.0.2 and 127.0.0.3: PATH starts with the user's ``fakebin`` (the test installer's ``docker``
  shim lives there, see tests/installs/fixtures.py).
* 127.0.0.4: the machine's real PATH (real ``docker`` without a daemon, real ``nproc``/``free``/``df``).

One server for the whole session, whichever conftest asks first; stopped by its pid at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port

TEST_USER = "harborops-ssh-test"
FAKE_HOSTS = ("127.0.0.2", "127.0.0.3")
REAL_HOST = "127.0.0.4"
SSHD_BIN = "/usr/sbin/sshd"
INSTALL_HINT = "apt-get install -y openssh-server openssh-client"


@dataclass
class SSHD:
    dir: Path
    port: int
    proc: subprocess.Popen[bytes]
    user: str
    home: Path
    fakebin: Path
    private_key: str
    public_key: str
    host_public_key: str  # "ssh-ed25519 AAAA..."
    other_host_public_key: str  # a second host key, for "the key changed" tests

    def host_key_fingerprint(self) -> str:
        from harborops.ssh.client import fingerprint

        return fingerprint(self.host_public_key.split()[1])


_server: SSHD | None = None


def ensure_test_user() -> pwd.struct_passwd:
    """Create the unprivileged user once (idempotent); '*' as password: no password login, not locked."""
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", TEST_USER], check=True)
        entry = pwd.getpwnam(TEST_USER)
    subprocess.run(["usermod", "-p", "*", TEST_USER], check=True)
    return entry


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)


def start_sshd() -> SSHD:
    global _server
    if _server is not None and _server.proc.poll() is None:
        return _server
    if not Path(SSHD_BIN).exists() or shutil.which("ssh-keygen") is None:
        raise RuntimeError(f"OpenSSH is missing: {INSTALL_HINT}")
    user = ensure_test_user()
    home = Path(user.pw_dir)
    fakebin = home / "fakebin"
    fakebin.mkdir(exist_ok=True)
    os.chown(fakebin, user.pw_uid, user.pw_gid)
    d = Path(tempfile.mkdtemp(prefix="harborops-sshd-"))
    d.chmod(0o755)
    _keygen(d / "host_ed25519_key", "host")
    _keygen(d / "other_host_key", "other")
    _keygen(d / "client_key", "harborops-tests")
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    (d / "authorized_keys").chmod(0o644)
    port = free_port(FAKE_HOSTS[0])
    fake_path = f"{fakebin}:/usr/local/bin:/usr/bin:/bin"
    listen = "\n".join(f"ListenAddress {a}:{port}" for a in (*FAKE_HOSTS, REAL_HOST))
    (d / "sshd_config").write_text(f"""{listen}
HostKey {d}/host_ed25519_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers {TEST_USER}
UsePAM no
StrictModes no
LogLevel ERROR
Subsystem sftp internal-sftp
Match LocalAddress {",".join(FAKE_HOSTS)}
    SetEnv PATH={fake_path}
""")
    Path("/run/sshd").mkdir(exist_ok=True)
    log = (d / "sshd.log").open("ab")
    proc = subprocess.Popen([SSHD_BIN, "-D", "-e", "-f", str(d / "sshd_config")], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    import socket

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {(d / 'sshd.log').read_text()}")
        try:
            with socket.create_connection((REAL_HOST, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.05)
    _server = SSHD(dir=d, port=port, proc=proc, user=TEST_USER, home=home, fakebin=fakebin,
                   private_key=(d / "client_key").read_text(), public_key=(d / "client_key.pub").read_text(),
                   host_public_key=" ".join((d / "host_ed25519_key.pub").read_text().split()[:2]),
                   other_host_public_key=" ".join((d / "other_host_key.pub").read_text().split()[:2]))
    return _server


def stop_sshd() -> None:
    global _server
    if _server is None:
        return
    proc, _server = _server.proc, None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def as_test_user(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a local command as the test user (to prepare or inspect its files)."""
    return subprocess.run(["runuser", "-u", TEST_USER, "--", *argv], check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def sshd() -> Iterator[SSHD]:
    """The session's sshd (the SSH layer's, certificates' and GC's tests share it; the installs tests add the
    docker shim in their own fixture of the same name)."""
    server = start_sshd()
    yield server
    stop_sshd()
