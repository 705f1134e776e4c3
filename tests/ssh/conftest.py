"""A real sshd and an unprivileged user for the SSH tests (tests/support/sshd.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harborops.ssh import client
from tests.support.sshd import (
    FAKE_HOSTS,
    SSHD,
    as_test_user,
    )


@pytest.fixture
def scratch(sshd: SSHD) -> Iterator[Path]:
    """A fresh directory owned by the test user, in its home."""
    path = sshd.home / f"scratch-{uuid.uuid4().hex[:8]}"
    as_test_user("mkdir", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def target(sshd: SSHD) -> Callable[..., client.Target]:
    def make(address: str = FAKE_HOSTS[0], **kw: object) -> client.Target:
        values: dict[str, object] = {"address": address, "port": sshd.port, "username": sshd.user,
                                     "private_key": sshd.private_key, "pinned_key": sshd.host_public_key}
        values.update(kw)
        return client.Target(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_host(sshd: SSHD, db: None) -> Callable[..., object]:
    """An SSHHost row for the real sshd; ``accepted=True`` pins the real host key."""
    from harborops.ssh.models import SSHHost

    def make(name: str = "harbor-a", address: str = FAKE_HOSTS[0], accepted: bool = True, **kw: object) -> SSHHost:
        values: dict[str, object] = {"name": name, "address": address, "port": sshd.port, "username": sshd.user,
                                     "private_key": sshd.private_key}
        if accepted:
            values.update(host_key=sshd.host_public_key, host_key_accepted_by="pytest")
        values.update(kw)
        return SSHHost.objects.create(**values)

    return make
