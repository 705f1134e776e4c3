"""TEST FIXTURES for the rotation tests — none of this is Harbor.

A *managed host* is laid out the way a harborops install leaves it (tests/installs/fixtures.py's test
installer: ``harbor.yml`` rendered from its ``harbor.yml.tmpl``, its ``prepare`` that validates
harbor.yml and copies the certificate and key to ``{data_volume}/secret/cert``), on the real sshd as
the unprivileged test user. No Docker engine runs here, so the ``docker`` on the test user's PATH is
wrapped: in a harbor directory marked ``.fixture-tls-container``, ``docker compose up -d`` starts a
real TLS server standing in for Harbor's nginx container — it serves the files ``prepare`` copied,
on harbor.yml's hostname and https port — and ``docker compose down`` stops it. Everything else goes
to the installs tests' shim unchanged, and unmarked directories (the installs tests') see no change.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harborops.certificates.models import IssuedCertificate
from harborops.fleet.models import HAGroup, Instance
from harborops.installs import harbor_yml
from harborops.installs.models import Install, Installer, InstallTarget
from harborops.ssh.client import script
from harborops.ssh.models import SSHHost
from tests.installs.fixtures import DOCKER_SHIM, HARBOR_YML_TMPL, PREPARE
from tests.support.processes import free_port
from tests.support.sshd import SSHD, TEST_USER

NGINX = """\
#!/usr/bin/python3
# TEST FIXTURE standing in for Harbor's nginx container: serves what ./prepare copied to
# {data_volume}/secret/cert on harbor.yml's hostname and https port until `docker compose down`.
import os, socket, ssl, threading
import yaml
conf = yaml.safe_load(open("harbor.yml"))
cert_dir = os.path.join(conf["data_volume"], "secret", "cert")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(cert_dir, "server.crt"), os.path.join(cert_dir, "server.key"))
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((conf["hostname"], int(conf["https"]["port"])))
sock.listen(16)
open(".fixture-tls.ready", "w").write(str(os.getpid()))
def handle(conn):
    conn.settimeout(5)
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            if tls.recv(4096):
                tls.sendall(b"HTTP/1.1 404 Not Found\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()
while True:
    conn, _ = sock.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
"""

DOCKER_WRAPPER = """\
#!/bin/sh
# TEST FIXTURE (tests/certificates/managed_host.py): in a harbor directory marked .fixture-tls-container,
# `compose up` starts the fixture nginx (a real TLS server) and `compose down` stops it; then the installs
# tests' shim answers as always.
here=$(dirname "$0")
if [ "$1" = compose ] && [ -f .fixture-tls-container ] && { [ "$2" = up ] || [ "$2" = down ]; }; then
  if [ -f .fixture-tls.pid ]; then
    pid=$(cat .fixture-tls.pid); kill "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    rm -f .fixture-tls.pid
  fi
  if [ "$2" = up ]; then
    rm -f .fixture-tls.ready
    setsid /usr/bin/python3 "$here/harborops-fixture-nginx" </dev/null >>.fixture-tls.log 2>&1 &
    echo $! > .fixture-tls.pid
    i=0; while [ ! -f .fixture-tls.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    if [ ! -f .fixture-tls.ready ]; then
      echo "fixture nginx did not start:" >&2; tail -5 .fixture-tls.log >&2; exit 1
    fi
  fi
fi
exec "$here/docker-installs-shim" "$@"
"""

# ./prepare that fails once when ../fail-prepare-once exists (the fault the restore test injects).
FAILING_PREPARE = """\
#!/bin/sh
# TEST FIXTURE: fail once, like a prepare that rejects the new files, then behave.
if [ -f ../fail-prepare-once ]; then
  rm -f ../fail-prepare-once
  echo "Error: the https certificate or key file is invalid (fixture fault)"
  exit 1
fi
exec "$(dirname "$0")/prepare.real" "$@"
"""


def install_wrapper(sshd: SSHD) -> None:
    """(Re)write the wrapper: the installs tests' session fixture may have put its plain shim back."""
    for name, text in (("docker-installs-shim", DOCKER_SHIM), ("harborops-fixture-nginx", NGINX),
                       ("docker", DOCKER_WRAPPER)):
        path = sshd.fakebin / name
        tmp = path.with_name(name + ".tmp")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(path)


def _chown(path: Path) -> None:
    subprocess.run(["chown", "-R", f"{TEST_USER}:", str(path)], check=True)


@dataclass
class ManagedHost:
    target: InstallTarget
    instance: Instance
    harbor_dir: Path
    cert_file: Path
    address: str
    port: int

    @property
    def install(self) -> Install:
        return self.target.install

    def served_by_fixture_pid(self) -> int | None:
        pid = self.harbor_dir / ".fixture-tls.pid"
        return int(pid.read_text()) if pid.exists() else None

    def fail_next_prepare(self) -> None:
        real = self.harbor_dir / "prepare.real"
        if not real.exists():
            (self.harbor_dir / "prepare").rename(real)
            (self.harbor_dir / "prepare").write_text(FAILING_PREPARE)
            (self.harbor_dir / "prepare").chmod(0o755)
        (self.harbor_dir.parent / "fail-prepare-once").write_text("")
        _chown(self.harbor_dir.parent)

    def stop(self) -> None:
        """Stop the fixture nginx this test started (by its pid)."""
        pid = self.served_by_fixture_pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def ssh_host(sshd: SSHD, address: str) -> SSHHost:
    host, _ = SSHHost.objects.get_or_create(
        name=f"harbor-{address}",
        defaults={"address": address, "port": sshd.port, "username": sshd.user, "private_key": sshd.private_key,
                  "host_key": sshd.host_public_key, "host_key_accepted_by": "pytest"})
    return host


def provision(sshd: SSHD, workdir: Path, address: str, issued: IssuedCertificate, *, name: str,
              ha_group: HAGroup | None = None) -> ManagedHost:
    """A Harbor "installed" by harborops on ``address``: files on the host, prepare run, the fixture
    nginx up and serving ``issued``, and the Install/InstallTarget/Instance rows."""
    install_dir = workdir / "installer"
    harbor_dir, cert_dir, data = install_dir / "harbor", install_dir / "cert", workdir / "data"
    for d in (harbor_dir, cert_dir, data):
        d.mkdir(parents=True, exist_ok=True)
    (harbor_dir / "harbor.yml.tmpl").write_text(HARBOR_YML_TMPL)
    (harbor_dir / "prepare").write_text(PREPARE)
    (harbor_dir / "prepare").chmod(0o755)
    (harbor_dir / ".fixture-tls-container").write_text("")
    cert_file, key_file = cert_dir / "server.crt", cert_dir / "server.key"
    cert_file.write_text(issued.chain_pem())
    key_file.write_text(issued.private_key)
    key_file.chmod(0o600)
    port = free_port(address)
    values = harbor_yml.Values(hostname=address, http_port=free_port(address), https_enabled=True, https_port=port,
                               certificate_path=str(cert_file), private_key_path=str(key_file),
                               admin_password="fixture-admin", db_password="fixture-db", data_volume=str(data))
    (harbor_dir / "harbor.yml").write_text(harbor_yml.render(HARBOR_YML_TMPL, values))
    (harbor_dir / "harbor.yml").chmod(0o600)
    _chown(workdir)
    install_wrapper(sshd)
    host = ssh_host(sshd, address)
    with host.connect() as ssh:
        up = ssh.run(script("cd {} && ./prepare && docker compose up -d", str(harbor_dir)), timeout=60)
    assert up.ok, f"fixture host did not come up: {up.stdout}\n{up.stderr}"
    installer, _ = Installer.objects.get_or_create(filename="harbor-offline-installer-v2.13.1.tgz",
                                                   defaults={"version": "2.13.1"})
    install = Install.objects.create(
        name=name, installer=installer, install_dir=str(install_dir), https_enabled=True, https_port=port,
        tls_certificate=issued.chain_pem(), tls_private_key=issued.private_key, ca_bundle=issued.ca.certificate,
        data_volume=str(data), admin_password="fixture-admin", db_password="fixture-db",
        status=Install.Status.SUCCEEDED)
    instance = Instance.objects.create(name=name, url=f"https://{address}:{port}", username="admin",
                                       password="fixture-admin", ca_bundle=issued.ca.certificate, ha_group=ha_group)
    target = InstallTarget.objects.create(install=install, host=host, hostname=address, instance=instance)
    return ManagedHost(target, instance, harbor_dir, cert_file, address, port)
