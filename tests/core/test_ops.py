from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_healthz_reports_database_and_broker():
    body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"]


def test_healthz_is_503_when_the_broker_is_down(settings, monkeypatch):
    from harborops.core.views import ops

    monkeypatch.setattr(ops, "_check_broker", lambda: "ConnectionRefusedError")
    r = Client().get("/healthz")
    assert r.status_code == 503 and r.json()["broker"] == {"ok": False, "transport": r.json()["broker"]["transport"],
                                                         "error": "ConnectionRefusedError"}


def test_metrics_counts_requests_and_jobs(vera):
    from harborops.core.models import JobRun

    JobRun.objects.create(kind="x", status=JobRun.Status.FAILED)
    client = Client()
    client.force_login(vera)
    client.get("/jobs/")
    text = Client().get("/metrics").content.decode()
    assert 'harborops_jobs{status="failed"} 1.0' in text
    assert 'harborops_http_requests_total{method="GET",status="200",view="core:job_list"}' in text


def test_metrics_aggregate_across_processes_in_multiprocess_mode(tmp_path):
    """Two gunicorn workers each count in their own file; one scrape sums them."""
    import os
    import subprocess
    import sys

    from tests.support.processes import REPO

    code = ("from prometheus_client import Counter; c = Counter('harborops_probe_total', 'p'); c.inc(%d)")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", code % n], env=env, check=True, cwd=REPO)
    scrape = ("import django; django.setup(); from harborops.core.metrics import render_latest; "
              "print(render_latest().decode())")
    out = subprocess.run([sys.executable, "-c", scrape], env={**env, "DJANGO_SETTINGS_MODULE": "harborops.settings",
                                                              "DATABASE_URL": "sqlite:///" + str(tmp_path / "db")},
                         capture_output=True, text=True, cwd=REPO)
    assert "harborops_probe_total 5.0" in out.stdout, out.stderr[-2000:]


def test_beat_health_needs_a_recent_reaper_dispatch():
    from datetime import timedelta

    from django.core.management import CommandError, call_command
    from django.utils.timezone import now
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from harborops.schedule import SYSTEM_PREFIX

    with pytest.raises(CommandError, match="not dispatched the reaper yet"):
        call_command("beat_health")
    task = PeriodicTask.objects.create(name=SYSTEM_PREFIX + "Reap jobs whose worker died", task="t",
                                       crontab=CrontabSchedule.objects.create(),
                                       last_run_at=now() - timedelta(minutes=10))
    with pytest.raises(CommandError, match="last dispatched the reaper 6"):
        call_command("beat_health")
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=now())
    call_command("beat_health")
