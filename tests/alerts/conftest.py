"""Alerts test helpers: real receivers (SMTP, HTTP, Alertmanager), channels and routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harborops.alerts.models import Channel, Route
from harborops.alerts.services import actions
from harborops.core.actor import Actor
from tests.alerts import receivers
from tests.fleet.conftest import make_instance  # noqa: F401  (re-exported fixture)

ACTOR = Actor.system("tester")


@pytest.fixture
def smtp() -> Iterator[receivers.SMTPServer]:
    yield from receivers.smtp_server()


@pytest.fixture
def receiver() -> Iterator[receivers.HTTPReceiver]:
    yield from receivers.http_receiver()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[receivers.Alertmanager]:
    yield from receivers.alertmanager(tmp_path)


@pytest.fixture(autouse=True)
def _fast_delivery(settings: Any) -> None:
    settings.ALERT_DELIVERY_BACKOFF_SECONDS = 1
    settings.ALERT_DELIVERY_TIMEOUT = 5


def webhook(url: str, *, name: str = "hook", secret: str = "", fmt: str = "generic") -> Channel:
    return actions.save_channel(None, actor=ACTOR, name=name, kind="webhook", url=url, webhook_format=fmt,
                                secret=secret)


def route_to(*channels: Channel, name: str = "default", default: bool = True, **fields: Any) -> Route:
    return actions.save_route(None, actor=ACTOR, name=name, is_default=default, channels=list(channels), **fields)
