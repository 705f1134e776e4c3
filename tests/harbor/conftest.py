"""Harbor client tests: the contract gate and the fake-Harbor fixture.

Every test here fails if the contract checker recorded a violation during it (mode "record"
collects instead of raising inside the client, so the failure names all of them at once).
"""

from __future__ import annotations

import pytest

from tests.harbor.fakes import FakeHarbor


@pytest.fixture
def fake() -> FakeHarbor:
    return FakeHarbor()
