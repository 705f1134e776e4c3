"""`manage.py demo` replicates for real: the HA pair set up by harborops, a central Harbor pushing to
regional ones (one failing, one down), a stuck execution and weeks of history."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from harborops.audit.models import ActionLogEntry
from harborops.replication import topology
from harborops.replication.models import Execution, FailedTask, HAPair, OwnedSchedule, Policy

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(180)]


def test_the_demo_shows_every_replication_state() -> None:
    out = io.StringIO()
    call_command("demo", "--port", "0", "--exit-after-setup", "--no-sweep", stdout=out)
    text = out.getvalue()
    assert ("HA pair demo-registry-eu: two-way replication set up by harborops; consistent; robot secrets rotated "
            "(2 of 2 endpoints answer)") in text
    assert "replication schedule of bulk-to-us-staging: skipped: execution" in text
    assert OwnedSchedule.objects.get().last_outcome == "skipped"
    assert ActionLogEntry.objects.filter(action="replication.schedule_skip").exists()
    health = dict(Policy.objects.filter(instance__name="demo-us-prod").values_list("name", "health"))
    assert health == {"bulk-to-us-staging": "stuck", "library-to-ap-dev": "failing",
                      "library-to-edge-2": "failing", "library-to-us-staging": "healthy"}
    assert set(Policy.objects.filter(instance__name__startswith="demo-eu-prod").values_list("health", flat=True)) \
        == {"healthy"}
    nightly = Policy.objects.get(name="library-to-us-staging")
    assert nightly.executions.count() >= 80 and 0 < (nightly.failure_rate_7d or 0) < 0.2
    assert FailedTask.objects.filter(execution__policy__name="library-to-ap-dev").exists()
    assert "prepare work" in Execution.objects.get(policy__name="library-to-edge-2").status_text
    assert HAPair.objects.get().consistent is True
    graph = topology.build()  # the picture: the pair both ways, central to its regional Harbors
    health = {(e.source_name, e.target_name, e.health) for e in graph.edges}
    assert {("demo-eu-prod-a", "demo-eu-prod-b", "healthy"), ("demo-eu-prod-b", "demo-eu-prod-a", "healthy"),
            ("demo-us-prod", "demo-us-staging", "stuck"), ("demo-us-prod", "demo-ap-dev", "failing"),
            ("demo-us-prod", "demo-edge-2", "failing")} <= health
