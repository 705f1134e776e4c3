"""The access.* alert conditions: open drift findings per instance, and instances that were not checked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from harborops.access.conditions import access_conditions
from harborops.access.models import DriftFinding
from harborops.core import conditions as registry
from harborops.fleet.models import Instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

AT = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
K = DriftFinding.Kind


def inst(name: str, **fields) -> Instance:
    return Instance.objects.create(name=name, url=f"http://sim/{name}", username="admin", password="x",
                                   labels={"team": "payments"}, **fields)


def finding(instance: Instance, kind: str, project: str = "p", entity: str = "cn=devs") -> DriftFinding:
    return DriftFinding.objects.create(checked_at=AT - dt.timedelta(minutes=3), instance=instance, kind=kind,
                                       project_name=project, entity=entity, detail=f"{kind} detail")


def test_registered_with_the_app():
    assert {"access.drift", "access.drift_unchecked"} <= set(registry.titles())


def test_drift_per_instance_and_unchecked_apart():
    a, b, off = inst("a"), inst("b"), inst("off", enabled=False)
    finding(a, K.MISSING, "payments", "cn=pay")
    finding(a, K.WRONG_ROLE, "web")
    finding(a, K.MISSING, "data", "cn=data")
    finding(b, K.NOT_LDAP, "", "")
    finding(off, K.EXTRA)
    hits = {o.key: o for o in access_conditions(AT)}
    assert set(hits) == {("access.drift", f"instance:{a.pk}"), ("access.drift_unchecked", f"instance:{b.pk}")}
    drift = hits[("access.drift", f"instance:{a.pk}")]
    assert drift.summary == "a: 3 drift finding(s): 2 × member missing, 1 × wrong role"
    assert "Member missing: payments cn=pay" in drift.details and drift.severity == "warning"
    assert drift.instance_id == a.pk and drift.link == "/access/drift/"
    unchecked = hits[("access.drift_unchecked", f"instance:{b.pk}")]
    assert unchecked.severity == "info" and "not in ldap mode" in unchecked.summary


def test_clears_when_the_next_check_finds_nothing():
    a = inst("a")
    finding(a, K.STALE)
    assert list(access_conditions(AT))
    DriftFinding.objects.all().delete()  # a drift check replaces the findings
    assert list(access_conditions(AT)) == []


def test_drift_gauges_in_metrics(settings):
    settings.METRICS_INSTANCE_LABELS = ["team"]
    a = inst("a")
    finding(a, K.MISSING)
    finding(a, K.MISSING, entity="cn=other")
    text = Client().get("/metrics").content.decode()
    assert 'harborops_instance_drift_findings{instance="a",kind="missing",team="payments"} 2.0' in text
    assert 'harborops_instance_drift_findings{instance="a",kind="extra",team="payments"} 0.0' in text


def test_the_drift_page_shows_what_needs_attention(vera):
    client = Client()
    client.force_login(vera)
    assert 'id="attention-none"' in client.get("/access/drift/").content.decode()
    finding(inst("a"), K.WRONG_ROLE, "web")
    page = client.get("/access/drift/").content.decode()
    assert 'data-condition="access.drift"' in page and "a: 1 drift finding(s): 1 × wrong role" in page
