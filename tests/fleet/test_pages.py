"""The fleet overview and instance pages: counts, version drift, filters, live rows, charts, metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from harborops.fleet.models import HealthSnapshot, Instance, StatusChange, SweepRun
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _fleet(make_instance: MakeInstance, n: int) -> None:
    for i in range(1, n + 1):
        status = ["up", "up", "degraded", "down"][i % 4]
        make_instance(i, status=status, version=["v2.13.1-abc", "v2.15.0-def", "v2.9.4-aaa"][i % 3],
                      labels={"env": "prod" if i % 2 else "dev"}, latency_ms=10 + i, storage_total=1000,
                      storage_free=250, last_seen_at=now(),
                      unhealthy_components=["trivy"] if status == "degraded" else [])


def viewer(vera: User) -> Client:
    client = Client()
    client.force_login(vera)
    return client


def test_the_overview_counts_filters_and_shows_version_drift(make_instance: MakeInstance, vera: User):
    _fleet(make_instance, 8)
    page = viewer(vera).get("/fleet/").content.decode()
    assert 'data-status="up"><span class="n">4<' in page and 'data-status="down"><span class="n">2<' in page
    assert "v2.15.0" in page and "v2.13.1" in page and "v2.9.4" in page  # build suffixes folded
    assert "Degraded: trivy" in page and "75% used" in page
    prod = viewer(vera).get("/fleet/?label=env%3Dprod&status=down").content.decode()
    assert prod.count('data-instance="') == Instance.objects.filter(labels__env="prod", status="down").count()
    searched = viewer(vera).get("/fleet/?q=harbor-7").content.decode()
    assert 'data-instance="harbor-7"' in searched and 'data-instance="harbor-6"' not in searched


def test_live_refresh_returns_only_the_rows_and_the_query_count_does_not_grow(make_instance: MakeInstance,
                                                                            vera: User):
    client = viewer(vera)
    _fleet(make_instance, 5)
    with CaptureQueriesContext(connection) as few:
        partial = client.get("/fleet/", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and 'id="instance-table"' in partial.content.decode()
    for i in range(6, 40):
        make_instance(i)
    with CaptureQueriesContext(connection) as many:
        client.get("/fleet/", HTTP_HX_REQUEST="true")
    assert len(many) == len(few)


def test_the_instance_page_draws_its_timeline_and_lists_status_changes(make_instance: MakeInstance, vera: User):
    inst = make_instance(1, status="up", credential_kind="robot", username="robot$sweeper")
    start = now() - dt.timedelta(hours=1)
    for k in range(6):
        HealthSnapshot.objects.create(instance=inst, taken_at=start + dt.timedelta(minutes=10 * k),
                                      status="down" if k == 3 else "up", latency_ms=20 + k, storage_total=100,
                                      storage_free=60 - k, components=[{"name": "core", "status": "healthy"}])
    StatusChange.objects.create(instance=inst, at=start, from_status="unknown", to_status="up", reason="healthy")
    page = viewer(vera).get(f"/fleet/{inst.pk}/").content.decode()
    assert page.count("<rect ") == 6 and 'id="storage-trend"' in page and "polyline" in page
    assert "access management needs sysadmin credentials" in page and 'id="status-changes"' in page


def test_metrics_expose_fleet_status_and_versions(make_instance: MakeInstance):
    _fleet(make_instance, 4)
    SweepRun.objects.create(started_at=now() - dt.timedelta(seconds=3), finished_at=now(), instances=4)
    text = Client().get("/metrics").content.decode()
    assert 'harborops_fleet_instances{status="up"} 2.0' in text
    assert 'harborops_fleet_instances_by_version{version="v2.13.1"}' in text
    assert "harborops_fleet_last_sweep_seconds 3." in text


def test_the_overview_pages_a_large_fleet_and_keeps_filters_across_pages(make_instance: MakeInstance, vera: User):
    for i in range(1, 131):
        make_instance(i, labels={"env": "prod" if i <= 120 else "dev"})
    client = viewer(vera)
    first = client.get("/fleet/?label=env%3Dprod").content.decode()
    assert first.count('data-instance="') == 100 and "1–100 of 120" in first
    assert "label=env%3Dprod&amp;page=2" in first
    second = client.get("/fleet/?label=env%3Dprod&page=2", HTTP_HX_REQUEST="true").content.decode()
    assert second.count('data-instance="') == 20 and "101–120 of 120" in second
    assert 'hx-get="/fleet/?label=env%3Dprod&amp;page=2"' in second  # the live refresh stays on this page
