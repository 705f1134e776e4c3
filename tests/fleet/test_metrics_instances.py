"""Per-instance series on /metrics: debounced and raw availability, latency, components, version,
storage, jobservice queues, audit ingest lag — with the configured instance labels only."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.apps import apps
from django.test import Client
from django.utils.timezone import now

from harborops.core.metrics import instance_label_keys
from harborops.events.models import HarborEvent, IngestAnomaly, IngestState
from harborops.fleet.models import HealthSnapshot, Instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def scrape(**headers: str) -> str:
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample of ``name`` whose labels include ``labels`` (None: no such series)."""
    for line in text.splitlines():
        m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


@pytest.fixture
def fleet(settings):
    settings.METRICS_INSTANCE_LABELS = ["team", "env", "instance", "9lives", "owner.email"]
    at = now()
    up = Instance.objects.create(
        name="eu-1", url="http://sim/1", username="admin", password="x", status=Instance.Status.DEGRADED,
        labels={"team": "payments", "env": "prod", "instance": "x", "ticket": "JIRA-123"}, version="v2.13.1-abc123",
        latency_ms=250, storage_total=1000, storage_free=300, last_swept_at=at, unhealthy_components=["trivy"])
    HealthSnapshot.objects.create(instance=up, taken_at=at - dt.timedelta(minutes=1), status="up",
                                  components=[{"name": "core", "status": "unhealthy"}])
    HealthSnapshot.objects.create(
        instance=up, taken_at=at, status="degraded",
        components=[{"name": "core", "status": "healthy"}, {"name": "trivy", "status": "unhealthy", "error": "x"}],
        job_queues=[{"job_type": "GARBAGE_COLLECTION", "count": 3, "latency": 40, "paused": False},
                    {"job_type": "REPLICATION", "count": 0, "latency": 0, "paused": False}])
    down = Instance.objects.create(name="us-1", url="http://sim/2", username="admin", password="x",
                                   status=Instance.Status.DOWN, error_kind=Instance.ErrorKind.AUTH,
                                   labels={"team": "web"})
    Instance.objects.create(name="new", url="http://sim/3", username="admin", password="x")
    Instance.objects.create(name="off", url="http://sim/4", username="admin", password="x", enabled=False,
                            status=Instance.Status.UP)
    HarborEvent.objects.create(instance=up, instance_name="eu-1", source="auditlog-exts", harbor_id=1,
                               op_time=at - dt.timedelta(hours=2))
    HarborEvent.objects.create(instance=up, instance_name="eu-1", source="auditlog-exts", harbor_id=2,
                               op_time=at - dt.timedelta(seconds=90))
    IngestState.objects.update_or_create(instance=up, defaults={"last_success_at": at - dt.timedelta(seconds=30)})
    IngestAnomaly.objects.create(instance=down, source="auditlog-exts", kind="gap", missing=7)
    return up, down


def test_label_names_are_valid_bounded_and_never_clash(fleet):
    assert instance_label_keys() == [("team", "team"), ("env", "env"), ("instance", "label_instance"),
                                     ("9lives", "label_9lives"), ("owner.email", "owner_email")]


def test_per_instance_series(fleet, monkeypatch):
    monkeypatch.setattr("harborops.fleet.metrics._availability", lambda: {})  # no debounced state yet: raw
    text = scrape()
    eu = {"instance": "eu-1", "team": "payments", "env": "prod", "label_instance": "x"}
    assert value(text, "harborops_instance_up", **eu) == 1  # degraded still answers
    assert value(text, "harborops_instance_probe_success", **eu) == 1
    assert value(text, "harborops_instance_up", instance="us-1", team="web", env="") == 0
    assert value(text, "harborops_instance_up", instance="new") is None  # unknown: no opinion
    assert value(text, "harborops_instance_status", instance="eu-1", status="degraded") == 1
    assert value(text, "harborops_instance_status", instance="eu-1", status="up") == 0
    assert value(text, "harborops_instance_probe_error", instance="us-1", kind="auth") == 1
    assert value(text, "harborops_instance_probe_latency_seconds", instance="eu-1") == 0.25
    assert value(text, "harborops_instance_info", instance="eu-1", version="v2.13.1") == 1
    assert value(text, "harborops_instance_storage_total_bytes", instance="eu-1") == 1000
    assert value(text, "harborops_instance_storage_used_bytes", instance="eu-1") == 700
    assert value(text, "harborops_instance_component_healthy", instance="eu-1", component="core") == 1
    assert value(text, "harborops_instance_component_healthy", instance="eu-1", component="trivy") == 0
    assert value(text, "harborops_instance_jobservice_queue_length", instance="eu-1", queue="GARBAGE_COLLECTION") == 3
    assert value(text, "harborops_instance_jobservice_queue_latency_seconds", instance="eu-1",
                 queue="GARBAGE_COLLECTION") == 40
    lag = value(text, "harborops_instance_audit_ingest_lag_seconds", instance="eu-1")
    assert lag is not None and 90 <= lag < 90 + 60
    assert value(text, "harborops_instance_audit_ingest_last_success_timestamp_seconds", instance="eu-1")
    assert value(text, "harborops_instance_audit_gap_events", instance="us-1") == 7
    assert value(text, "harborops_instance_audit_gap_events", instance="eu-1") == 0
    assert 'instance="off"' not in text  # disabled instances are not exported
    assert "JIRA-123" not in text and "ticket" not in text  # labels not listed stay out


def test_up_is_the_debounced_state_when_alerts_keeps_one(fleet):
    up, down = fleet
    if not apps.is_installed("harborops.alerts"):
        pytest.fail("the alerts app is part of harborops' INSTALLED_APPS")
    model = apps.get_model("alerts", "InstanceAvailability")
    model.objects.create(instance=up, state="down", consecutive_failures=3)  # raw says degraded (answering)
    model.objects.create(instance=down, state="up", consecutive_failures=1)  # one timeout: not down yet
    third = Instance.objects.create(name="ap-1", url="http://sim/5", username="admin", password="x",
                                    status=Instance.Status.DOWN)
    model.objects.create(instance=third, state="unknown")  # no opinion yet: the raw result stands in
    text = scrape()
    assert value(text, "harborops_instance_up", instance="eu-1") == 0
    assert value(text, "harborops_instance_probe_success", instance="eu-1") == 1
    assert value(text, "harborops_instance_up", instance="us-1") == 1
    assert value(text, "harborops_instance_probe_success", instance="us-1") == 0
    assert value(text, "harborops_instance_up", instance="ap-1") == 0


def test_without_the_alerts_model_up_falls_back_to_raw(fleet, monkeypatch):
    real = apps.get_model

    def get_model(app_label: str, *args, **kwargs):
        if app_label == "alerts":
            raise LookupError("No installed app with label 'alerts'.")
        return real(app_label, *args, **kwargs)

    monkeypatch.setattr(apps, "get_model", get_model)
    text = scrape()
    assert value(text, "harborops_instance_up", instance="eu-1") == 1
    assert value(text, "harborops_instance_up", instance="us-1") == 0


def test_bearer_token_guards_metrics_when_set(settings, fleet, caplog):
    caplog.set_level(logging.DEBUG)
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    denied = Client().get("/metrics")
    assert denied.status_code == 401 and denied["WWW-Authenticate"].startswith("Bearer")
    assert b"harborops_instance" not in denied.content
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Basic s3cret-metrics-token"}).status_code == 401
    text = scrape(Authorization="Bearer s3cret-metrics-token")
    assert value(text, "harborops_instance_up", instance="eu-1") is not None
    assert "s3cret-metrics-token" not in text + denied.content.decode() + caplog.text  # never echoed or logged
