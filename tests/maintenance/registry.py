"""A real Docker distribution registry (Debian ``docker-registry``, deletes enabled) run by the
unprivileged SSH test user on loopback, with stop/start scripts the offline GC calls over SSH,
images pushed with skopeo from OCI layouts built here."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.processes import free_port
from tests.support.sshd import SSHD, as_test_user

REGISTRY_BIN = "/usr/bin/docker-registry"
SKOPEO_BIN = "/usr/bin/skopeo"
INSTALL_HINT = "apt-get install -y docker-registry skopeo"

CONTROL = """#!/bin/sh
# registry-ctl start|stop: what an init script does for the test registry.
set -e
cd "$(dirname "$0")"
case "$1" in
  start)
    [ -f fail-start ] && { echo "start refused (test switch)" >&2; exit 3; }
    nohup /usr/bin/docker-registry serve config.yml >>registry.log 2>&1 </dev/null &
    echo $! > registry.pid
    echo "registry started, pid $(cat registry.pid)" ;;
  stop)
    if [ -f registry.pid ]; then
      pid=$(cat registry.pid)
      kill "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f registry.pid
    fi
    echo "registry stopped" ;;
esac
"""


def _blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def oci_layout(root: Path, tag: str, size: int) -> Path:
    """An OCI image layout with one random ``size``-byte layer (incompressible: bytes on disk count)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(f"data-{tag}.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    layer_tar = raw.getvalue()
    layer = _blob(root, gzip.compress(layer_tar, mtime=0))
    config = _blob(root, json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                                     "rootfs": {"type": "layers",
                                                "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]}
                                     }).encode())
    manifest = _blob(root, json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}).encode())
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return root


@dataclass
class Registry:
    dir: Path          # owned by the SSH test user: config.yml, data/, registry-ctl, registry.pid
    port: int
    ssh: SSHD

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def ctl(self, action: str) -> None:
        as_test_user(str(self.dir / "registry-ctl"), action)

    def wait_up(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"registry did not come up: {(self.dir / 'registry.log').read_text()[-2000:]}")

    def push(self, work: Path, name: str, tag: str, size: int) -> None:
        layout = oci_layout(work / f"{name.replace('/', '_')}-{tag}", tag, size)
        subprocess.run([SKOPEO_BIN, "--insecure-policy", "copy", "--dest-tls-verify=false", f"oci:{layout}:{tag}",
                        f"docker://127.0.0.1:{self.port}/{name}:{tag}"], check=True, capture_output=True,
                       timeout=60, env={**os.environ, "HOME": str(work)})

    def pulls(self, work: Path, name: str, tag: str) -> bool:
        dest = work / f"pulled-{name.replace('/', '_')}-{tag}-{time.monotonic_ns()}"
        done = subprocess.run([SKOPEO_BIN, "--insecure-policy", "copy", "--src-tls-verify=false",
                               f"docker://127.0.0.1:{self.port}/{name}:{tag}", f"oci:{dest}:{tag}"],
                              capture_output=True, timeout=60, env={**os.environ, "HOME": str(work)})
        return done.returncode == 0

    def digest(self, name: str, tag: str) -> str:
        r = httpx.head(f"{self.url}/v2/{name}/manifests/{tag}",
                       headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        r.raise_for_status()
        return r.headers["Docker-Content-Digest"]

    def delete(self, name: str, tag: str) -> None:
        digest = self.digest(name, tag)
        assert httpx.delete(f"{self.url}/v2/{name}/manifests/{digest}").status_code == 202

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.data.rglob("*") if f.is_file())

    def stop(self) -> None:
        pid_file = self.dir / "registry.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def start_registry(ssh: SSHD, name: str) -> Registry:
    if not (Path(REGISTRY_BIN).exists() and Path(SKOPEO_BIN).exists()):
        raise RuntimeError(f"docker-registry or skopeo missing: {INSTALL_HINT}")
    port = free_port()
    d = ssh.home / name
    shutil.rmtree(d, ignore_errors=True)
    as_test_user("mkdir", "-p", str(d / "data"))
    files = {"config.yml": f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {d / 'data'}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
""", "registry-ctl": CONTROL}
    for fname, text in files.items():
        tmp = Path(f"/tmp/{name}-{fname}")
        tmp.write_text(text)
        tmp.chmod(0o755)
        as_test_user("cp", str(tmp), str(d / fname))
        tmp.unlink()
    registry = Registry(d, port, ssh)
    registry.ctl("start")
    registry.wait_up()
    return registry
