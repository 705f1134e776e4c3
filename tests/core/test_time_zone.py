"""Times are shown in the configured time zone, named — never a hard-coded "UTC"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from harborops.audit.models import ActionLogEntry
from tests.support.fixtures import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_pages_name_the_configured_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    entry = ActionLogEntry.objects.create(actor_name="x", action="test.thing", object_type="test",
                                          time=dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC))
    web = Client()
    web.force_login(make_user("vera", "viewer"))
    page = web.get(f"/audit/actions/{entry.pk}/").content.decode()
    assert "2026-07-01 12:00:00 CEST" in page  # 10:00 UTC in Berlin's summer time
    assert "times in Europe/Berlin" in page
    assert not re.search(r"\d\d:\d\d(:\d\d)? UTC", page)
