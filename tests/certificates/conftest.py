"""Real TLS servers on 127.0.0.x for the certificate tests, one per kind of certificate."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.certificates import pki
from tests.certificates.managed_host import ManagedHost, provision
from tests.certificates.tls_server import TLSServer
from tests.support.sshd import (
    SSHD,
    as_test_user,
    )


@dataclass
class Zoo:
    root: pki.Authority
    openssl_ca: pki.Made
    servers: dict[str, TLSServer]

    def at(self, kind: str) -> tuple[str, int]:
        server = self.servers[kind]
        return server.host, server.port


@pytest.fixture(scope="session")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zoo]:
    d: Path = tmp_path_factory.mktemp("pki")
    root = pki.make_authority("Test Root CA")
    inter = pki.make_authority("Test Intermediate CA", root)
    ossl = d / "openssl"
    ossl.mkdir()
    ca = pki.openssl_ca(ossl)
    made: dict[str, tuple[pki.Made, bool]] = {
        "valid": (pki.make_leaf(d, "valid", inter, chain=(inter,)), False),
        "missing_intermediate": (pki.make_leaf(d, "missing", inter), False),
        "expired": (pki.make_leaf(d, "expired", root, not_before_days=-100, days=30), False),
        "not_yet_valid": (pki.make_leaf(d, "future", root, not_before_days=5, days=30), False),
        "wrong_host": (pki.make_leaf(d, "wrong", root, dns=("other.test",), cn="other.test"), False),
        "cn_only": (pki.make_leaf(d, "cn", root, dns=(), cn="harbor.test"), False),
        "openssl_valid": (pki.openssl_server(ossl, ca, "good"), False),
        "openssl_self_signed": (pki.openssl_self_signed(ossl, "self"), False),
        "openssl_sha1": (pki.openssl_server(ossl, ca, "sha1", bits=2048, digest="sha1"), True),
        "openssl_rsa1024": (pki.openssl_server(ossl, ca, "weak", bits=1024, digest="sha256"), True),
    }
    servers: dict[str, TLSServer] = {}
    try:
        for i, (kind, (files, weak)) in enumerate(made.items(), start=70):  # clear of the sshd (127.0.0.2-4)
            servers[kind] = TLSServer(files.chain, files.key, host=f"127.0.0.{i}", weak=weak).start()
        yield Zoo(root, ca, servers)
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def fake_root(sshd: SSHD) -> Iterator[Path]:
    """A writable stand-in for the pulling host's ``/`` (the per-host path prefix), owned by the test user."""
    path = sshd.home / f"fakeroot-{uuid.uuid4().hex[:8]}"
    as_test_user("mkdir", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def no_getcert(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture nginx of a managed host is a TLS server, not Harbor: the scan must not ask it for
    /systeminfo/getcert (that check runs against the Harbor simulator in test_scan.py)."""
    from harborops.certificates.services import scan

    monkeypatch.setattr(scan, "_getcert", lambda endpoint, timeout: None)


@pytest.fixture
def managed_hosts(sshd: SSHD, settings: Any) -> Iterator[Callable[..., ManagedHost]]:
    """Make managed Harbor hosts (tests/certificates/managed_host.py) on the real sshd; their fixture
    nginx processes are stopped by pid and their files removed afterwards."""
    settings.CERT_ROTATE_VERIFY_TIMEOUT = 15
    made: list[tuple[ManagedHost, Path]] = []

    def make(address: str, issued: Any, *, name: str, ha_group: Any = None) -> ManagedHost:
        workdir = sshd.home / f"rot-{uuid.uuid4().hex[:8]}"
        as_test_user("mkdir", str(workdir))
        host = provision(sshd, workdir, address, issued, name=name, ha_group=ha_group)
        made.append((host, workdir))
        return host

    yield make
    for host, workdir in made:
        host.stop()
        shutil.rmtree(workdir, ignore_errors=True)
