"""The real sshd (tests/support/sshd.py), the test installer and the simulator starter
(tests/installs/fixtures.py — test fixtures, not Harbor)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from harborops.core.actor import Actor
from harborops.installs import installers, services
from harborops.installs.models import Install, Installer
from harborops.ssh.client import file_digests
from harborops.ssh.models import SSHHost
from tests.installs.fixtures import SimStarter, build_test_installer, install_docker_shim
from tests.support.processes import free_port
from tests.support.sshd import FAKE_HOSTS, SSHD, as_test_user, start_sshd, stop_sshd

ACTOR = Actor.system("pytest")


@pytest.fixture(scope="session")
def sshd() -> Iterator[SSHD]:
    server = start_sshd()
    install_docker_shim(server.fakebin)
    yield server
    stop_sshd()


@pytest.fixture(scope="session")
def installer_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_installer(tmp_path_factory.mktemp("installer"))


@pytest.fixture
def install_settings(settings: LazySettings, tmp_path: Path) -> LazySettings:
    # The test machine is small: thresholds it passes; a short verify wait.
    settings.INSTALL_THRESHOLDS = "cpus=1:1,memory_gb=0.5:0.5,disk_gb=0.5:0.5"
    settings.INSTALL_VERIFY_TIMEOUT = 30
    settings.INSTALLER_DIR = tmp_path / "installers"
    return settings


@pytest.fixture
def workdir(sshd: SSHD) -> Iterator[Path]:
    path = sshd.home / f"inst-{uuid.uuid4().hex[:8]}"
    as_test_user("mkdir", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sims() -> Iterator[SimStarter]:
    starter = SimStarter().start()
    yield starter
    starter.stop()


@pytest.fixture
def stored_installer(installer_file: Path, install_settings: LazySettings, db: None) -> Installer:
    copy = Path(install_settings.INSTALLER_DIR)
    copy.mkdir(parents=True, exist_ok=True)
    incoming = copy / ".incoming-test"
    shutil.copy(installer_file, incoming)
    digests = file_digests(incoming)
    upload = installers.StoredUpload(incoming, installer_file.name, incoming.stat().st_size,
                                     digests["sha256"], digests["md5"])
    return installers.save_upload(upload, actor=ACTOR, checksum=digests["sha256"])


@pytest.fixture
def host_for(sshd: SSHD, db: None) -> Callable[..., SSHHost]:
    def make(address: str = FAKE_HOSTS[0], name: str = "") -> SSHHost:
        host, _ = SSHHost.objects.get_or_create(
            name=name or f"host-{address}",
            defaults={"address": address, "port": sshd.port, "username": sshd.user, "private_key": sshd.private_key,
                      "host_key": sshd.host_public_key, "host_key_accepted_by": "pytest"})
        return host
    return make


@pytest.fixture
def make_install(workdir: Path, sims: SimStarter, stored_installer: Installer,
                 host_for: Callable[..., SSHHost]) -> Callable[..., Install]:
    def make(addresses: tuple[str, ...] = (FAKE_HOSTS[0],), name: str = "harbor-new", **kw: Any) -> Install:
        installer = kw.pop("installer", stored_installer)
        port = free_port(addresses[0])
        values: dict[str, Any] = {"install_dir": str(workdir / "installer"), "data_volume": str(workdir / "data"),
                                  "http_port": port}
        values.update(kw)
        install = services.create_install(actor=ACTOR, name=name, installer=installer,
                                          hosts=[(host_for(a), a) for a in addresses], **values)
        sims.watch(Path(install.harbor_dir))
        return install

    return make
