"""TEST FIXTURES for the install tests — none of this is Harbor.

No Docker engine runs here, so the tests install a **test installer**:

* ``build_test_installer()``: a tarball laid out like Harbor's offline bundle (``harbor/`` with
  ``harbor.yml.tmpl`` copied in spirit from goharbor/harbor make/harbor.yml.tmpl, ``prepare``,
  ``install.sh``, ``common.sh``, ``LICENSE`` and a dummy ``harbor.vX.Y.Z.tar.gz``). Its ``prepare``
  checks harbor.yml the way Harbor's prepare does (install-notes.md §2/§3) and copies the
  certificate and key under ``{data_volume}/secret/cert``; its ``install.sh`` rejects any flag but
  ``--with-trivy`` with exit 1, runs the checks, ``./prepare`` and ``docker compose up -d``, then
  drops ``.fixture-started`` — the sign for ``SimStarter`` to start the Harbor simulator on the
  configured hostname and port with the admin password from harbor.yml. Every call is appended to
  ``harbor/fixture-calls.log`` so tests can prove a step did not run again.
* ``install_docker_shim()``: a ``docker`` executable on the test user's PATH (127.0.0.2/.3 only) that
  answers the version queries, ``load``, ``compose up/down`` and ``compose ps --format json``.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time
from pathlib import Path

import yaml

from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.server import ssl_context

VERSION = "2.13.1"
FILENAME = f"harbor-offline-installer-v{VERSION}.tgz"

HARBOR_YML_TMPL = """\
# Configuration file of Harbor

# The IP address or hostname to access admin UI and registry service.
# DO NOT use localhost or 127.0.0.1, because Harbor needs to be accessed by external clients.
hostname: reg.mydomain.com

# http related config
http:
  # port for http, default is 80. If https enabled, this port will redirect to https port
  port: 80

# https related config
https:
  # https port for harbor, default is 443
  port: 443
  # The path of cert and key files for nginx
  certificate: /your/certificate/path
  private_key: /your/private/key/path
  # enable strong ssl ciphers (default: false)
  # strong_ssl_ciphers: false

# The initial password of Harbor admin
# It only works in first time to install harbor
# Remember Change the admin password from UI after launching Harbor.
harbor_admin_password: Harbor12345

# Harbor DB configuration
database:
  # The password for the user('postgres' by default) of Harbor DB. Change this before any production use.
  password: root123
  # The maximum number of connections in the idle connection pool.
  max_idle_conns: 100
  # The maximum number of open connections to the database.
  max_open_conns: 900

# The default data volume
data_volume: /data

# Trivy configuration
trivy:
  # ignoreUnfixed The flag to display only fixed vulnerabilities
  ignore_unfixed: false
  skip_update: false
  offline_scan: false
  insecure: false
  timeout: 5m0s

jobservice:
  # Maximum number of job workers in job service
  max_job_workers: 10
  # The jobLoggers backend name, only support "STD_OUTPUT", "FILE" and/or "DB"
  job_loggers:
    - STD_OUTPUT
    - FILE
  # The jobLogger sweeper duration (ignored if `jobLogger` is `stdout`)
  logger_sweeper_duration: 1 #days

notification:
  # Maximum retry count for webhook job
  webhook_job_max_retry: 3
  # HTTP client timeout for webhook job
  webhook_job_http_client_timeout: 3 #seconds

# Log configurations
log:
  # options are debug, info, warning, error, fatal
  level: info
  # configs for logs in local storage
  local:
    rotate_count: 50
    rotate_size: 200M
    location: /var/log/harbor

#This attribute is for migrator to detect the version of the .cfg file, DO NOT MODIFY!
_version: 2.13.0
"""

# FIXTURE prepare: validates harbor.yml like make/photon/prepare/utils/configs.py validate().
PREPARE = """\
#!/usr/bin/python3
# TEST FIXTURE standing in for Harbor's ./prepare (which runs goharbor/prepare in Docker).
import os, shutil, sys
import yaml
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "fixture-calls.log"), "a") as f:
    f.write("prepare " + " ".join(sys.argv[1:]) + "\\n")
for arg in sys.argv[1:]:
    if arg != "--with-trivy":
        print("Error: unknown flag " + arg); sys.exit(1)
print("prepare base dir is set to " + here)
path = os.path.join(here, "harbor.yml")
if not os.path.exists(path):
    print("Error: no harbor.yml, copy harbor.yml.tmpl to harbor.yml and edit it"); sys.exit(1)
conf = yaml.safe_load(open(path))
def need(*keys):
    node = conf
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            print("Error: harbor.yml lacks the required key " + ".".join(keys)); sys.exit(1)
        node = node[k]
    return node
for keys in (("hostname",), ("harbor_admin_password",), ("database", "password"), ("data_volume",),
             ("jobservice", "max_job_workers"), ("jobservice", "job_loggers"), ("log",), ("_version",)):
    need(*keys)
if conf["hostname"] in ("127.0.0.1", "reg.mydomain.com"):
    print("Error: Please modify hostname, it must not be " + str(conf["hostname"])); sys.exit(1)
if need("log", "level") not in ("debug", "info", "warning", "error", "fatal"):
    print("Error: bad log level"); sys.exit(1)
data = conf["data_volume"]
if "https" in conf:
    cert, key = need("https", "certificate"), need("https", "private_key")
    for f in (cert, key):
        if f in ("/your/certificate/path", "/your/private/key/path") or not os.path.isfile(f):
            print("Error: the https certificate or key file does not exist: " + str(f)); sys.exit(1)
    os.makedirs(os.path.join(data, "secret", "cert"), exist_ok=True)
    shutil.copy(cert, os.path.join(data, "secret", "cert", "server.crt"))
    shutil.copy(key, os.path.join(data, "secret", "cert", "server.key"))
else:
    print("WARNING:root:WARNING: HTTP protocol is insecure. Harbor will deprecate http protocol in the future.")
os.makedirs(os.path.join(here, "common", "config", "core"), exist_ok=True)
open(os.path.join(here, "common", "config", "core", "env"), "w").write("CONFIG_PATH=/etc/core/app.conf\\n")
print("Generated configuration file: /config/core/env")
if "--with-trivy" in sys.argv:
    os.makedirs(os.path.join(here, "common", "config", "trivy-adapter"), exist_ok=True)
    print("Generated configuration file: /config/trivy-adapter/env")
open(os.path.join(here, "docker-compose.yml"), "w").write("# fixture\\nservices: {}\\n")
print("Generated configuration file: /compose_location/docker-compose.yml")
print("Clean up the input dir")
"""

INSTALL_SH = """\
#!/bin/sh
# TEST FIXTURE standing in for Harbor's install.sh (v2.9+: only --with-trivy is accepted).
set -e
cd "$(dirname "$0")"
echo "install.sh $*" >> fixture-calls.log
with_trivy=""
for arg in "$@"; do
  case "$arg" in
    --with-trivy) with_trivy="--with-trivy" ;;
    *) echo "Usage: install.sh [--with-trivy]"; echo "Please do NOT set --with-notary or --with-chartmuseum"; exit 1 ;;
  esac
done
echo "[Step 0]: checking if docker is installed ..."
echo "Note: docker version: $(docker version --format '{{.Server.Version}}')"
echo "[Step 1]: checking docker-compose is installed ..."
echo "Note: Docker Compose version $(docker compose version --short)"
echo "[Step 2]: loading Harbor images ..."
docker load -i ./harbor.v*.tar.gz
echo "[Step 3]: preparing environment ..."
./prepare $with_trivy
echo "[Step 4]: starting Harbor ..."
if [ -f ../slow-install ]; then sleep 20; fi
if [ -f ../fail-install-once ]; then
  rm -f ../fail-install-once
  echo "Error response from daemon: driver failed programming external connectivity (fixture fault)" >&2
  exit 1
fi
docker compose down -v
docker compose up -d
touch .fixture-started
echo "✔ ----Harbor has been installed and started successfully.----"
"""

DOCKER_SHIM = """\
#!/bin/sh
# TEST FIXTURE: a docker CLI shim (no Docker engine runs in the test environment).
case "$1" in
  --version) echo "Docker version 24.0.7, build afdd53b" ;;
  version) if [ "$2" = "--format" ]; then echo "24.0.7"; else echo "Server: Docker Engine 24.0.7"; fi ;;
  load) echo "Loaded image: goharbor/harbor-core:v2.13.1" ;;
  compose)
    case "$2" in
      version) if [ "$3" = "--short" ]; then echo "2.21.0"; else echo "Docker Compose version v2.21.0"; fi ;;
      ps)
        [ -f .fixture-started ] || exit 0
        for c in harbor-log registry registryctl harbor-db harbor-core harbor-portal harbor-jobservice redis nginx; do
          printf '{"Name":"%s","Service":"%s","State":"running","Health":"healthy"}\\n' "$c" "$c"
        done
        if [ -d common/config/trivy-adapter ]; then
          printf '{"Name":"trivy-adapter","Service":"trivy-adapter","State":"running","Health":"healthy"}\\n'
        fi ;;
      up) echo " Container harbor-core  Started" ;;
      down) echo " Container harbor-core  Removed" ;;
      *) echo "docker shim: unsupported compose $2" >&2; exit 1 ;;
    esac ;;
  *) echo "docker shim: unsupported $*" >&2; exit 1 ;;
esac
"""


def build_test_installer(directory: Path, *, payload_bytes: int = 512 * 1024) -> Path:
    """Write the test installer tarball into ``directory`` and return its path."""
    path = directory / FILENAME
    files = {
        "harbor/harbor.yml.tmpl": (HARBOR_YML_TMPL.encode(), 0o644),
        "harbor/prepare": (PREPARE.encode(), 0o755),
        "harbor/install.sh": (INSTALL_SH.encode(), 0o755),
        "harbor/common.sh": (b"#!/bin/bash\n# fixture\n", 0o644),
        "harbor/LICENSE": (b"Apache License 2.0 (fixture)\n", 0o644),
        f"harbor/harbor.v{VERSION}.tar.gz": (os.urandom(payload_bytes), 0o644),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return path


def self_signed(ip: str) -> tuple[str, str]:
    """A certificate for ``ip`` (IP SAN) and its key, PEM: it is its own CA."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ip)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def install_docker_shim(fakebin: Path) -> None:
    shim = fakebin / "docker"
    shim.write_text(DOCKER_SHIM)
    shim.chmod(0o755)


class SimStarter:
    """Start a Harbor simulator where a fixture install.sh finished (reads its harbor.yml)."""

    def __init__(self) -> None:
        self.watched: list[Path] = []
        self.servers: dict[tuple[Path, str, int], SimServer] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-starter", daemon=True)

    def watch(self, harbor_dir: Path) -> None:
        self.watched.append(harbor_dir)

    def start(self) -> SimStarter:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for hdir in list(self.watched):
                if not (hdir / ".fixture-started").exists():
                    continue
                conf = yaml.safe_load((hdir / "harbor.yml").read_text())
                https = conf.get("https")
                port = https["port"] if https else conf["http"]["port"]
                key = (hdir, conf["hostname"], port)
                if key in self.servers:
                    continue
                fleet = Fleet.create(1, VERSION.rsplit(".", 1)[0] + ".0",
                                     admin_password=conf["harbor_admin_password"])
                tls = ssl_context(https["certificate"], https["private_key"]) if https else None
                self.servers[key] = SimServer(fleet, conf["hostname"], port, ssl=tls,
                                              per_instance_ports=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for server in self.servers.values():
            server.stop()
