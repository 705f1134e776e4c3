"""Fleet test helpers: instances pointing at simulated Harbors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harborops.fleet.models import Instance

ADMIN_PASSWORD = "Harbor12345"
MakeInstance = Callable[..., Instance]


@pytest.fixture
def make_instance(db: None) -> MakeInstance:
    """``make_instance(n)``: an Instance for simulated Harbor n (in-process URL unless ``url``)."""

    def make(n: int, **fields: Any) -> Instance:
        values: dict[str, Any] = {"name": f"harbor-{n}", "url": f"http://sim/h/{n}", "username": "admin",
                                  "password": ADMIN_PASSWORD}
        values.update(fields)
        return Instance.objects.create(**values)

    return make
