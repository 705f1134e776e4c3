"""Policies from the browser and the API: validation, the beat entry, audit, runs with their steps
on the job page and in the API."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.maintenance.models import GCPolicy, GCStep
from harborops.schedule import SYSTEM_PREFIX
from tests.maintenance.conftest import GCFleet

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]

FORM = {"name": "weekly", "enabled": "on", "targets": "label", "target_label": "env=prod", "cron": "30 2 * * 6",
        "window_start": "02:00", "window_minutes": "240", "concurrency": "2", "dry_run_first": "on", "workers": "4",
        "harbor_cron": "", "notes": ""}


def test_it_creates_and_edits_a_policy_with_its_beat_entry(client: Client, alice: Any, gc_fleet: GCFleet) -> None:
    client.force_login(alice)
    bad = client.post("/maintenance/policies/add/", {**FORM, "cron": "61 * * * *", "harbor_cron": "0 3 * * *"})
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "not a valid cron expression" in body and "6 fields, seconds first" in body
    assert 'value="weekly"' in body and 'value="env=prod"' in body  # nothing typed is lost
    assert not GCPolicy.objects.exists() and not PeriodicTask.objects.exclude(name__startswith=SYSTEM_PREFIX).exists()
    r = client.post("/maintenance/policies/add/", FORM)
    policy = GCPolicy.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/maintenance/policies/{policy.pk}/"
    task = PeriodicTask.objects.get(pk=policy.periodic_task_id)
    assert not task.name.startswith(SYSTEM_PREFIX) and task.task == "harborops.maintenance.tasks.run_policy"
    assert json.loads(task.args) == [policy.pk] and task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "2", "6")
    page = client.get(f"/maintenance/policies/{policy.pk}/").content.decode()
    assert "harbor-1" in page and "harbor-4" not in page  # env=prod only
    r = client.post(f"/maintenance/policies/{policy.pk}/edit/", {**FORM, "cron": "0 4 * * *", "enabled": ""})
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("0", "4", False)
    client.post(f"/maintenance/policies/{policy.pk}/edit/", {**FORM, "cron": ""})
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    actions = list(ActionLogEntry.objects.filter(object_type="maintenance.gcpolicy").values_list("action", flat=True))
    assert actions == ["maintenance.policy.update", "maintenance.policy.update", "maintenance.policy.create"]


def test_an_operator_runs_it_and_watches_the_steps(client: Client, bob: Any, alice: Any, gc_fleet: GCFleet) -> None:
    client.force_login(alice)
    client.post("/maintenance/policies/add/", {**FORM, "cron": ""})
    policy = GCPolicy.objects.get()
    client.force_login(bob)
    assert client.post(f"/maintenance/policies/{policy.pk}/edit/", FORM).status_code == 403
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = client.post(f"/maintenance/policies/{policy.pk}/run/")
    job = JobRun.objects.get(kind="maintenance.gc_run")
    assert r["Location"] == f"/jobs/{job.pk}/"
    assert list(GCStep.objects.filter(job=job).values_list("instance_name", "status")) == [
        ("harbor-1", "pending"), ("harbor-2", "pending"), ("harbor-3", "pending")]
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'hx-get="/maintenance/runs/{job.pk}/steps/"' in page
    execute(job.pk)
    steps = client.get(f"/maintenance/runs/{job.pk}/steps/").content.decode()
    assert steps.count('data-status="succeeded"') == 3 and "dry run" in steps and "Harbor's GC log" in steps
    api = APIClient()
    api.force_login(bob)
    data = api.get(f"/api/maintenance/steps/?job={job.pk}").json()["results"]
    assert [s["instance_name"] for s in data] == ["harbor-1", "harbor-2", "harbor-3"]
    assert all(s["status"] == "succeeded" and s["log"] and s["harbor_gc_id"] for s in data)


def test_the_api_manages_policies_and_starts_runs(gc_fleet: GCFleet, alice: Any, bob: Any, vera: Any) -> None:
    admin, operator, viewer = APIClient(), APIClient(), APIClient()
    admin.force_login(alice)
    operator.force_login(bob)
    viewer.force_login(vera)
    bad = admin.post("/api/maintenance/policies/", {"name": "p", "workers": 11, "window_minutes": 0,
                                                    "cron": "* *"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) >= {"workers", "window_minutes", "cron"}
    created = admin.post("/api/maintenance/policies/", {
        "name": "api", "targets": "listed", "instances": ["harbor-2", "harbor-4"], "cron": "0 3 * * *",
        "window_start": "03:00", "concurrency": 1, "harbor_cron": "0 0 3 * * *"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["instances"] == ["harbor-2", "harbor-4"] and body["beat_entry"] == "gc policy: api"
    assert operator.post("/api/maintenance/policies/", {"name": "x"}, format="json").status_code == 403
    assert viewer.post(f"/api/maintenance/policies/{body['id']}/run/").status_code == 403
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = operator.post(f"/api/maintenance/policies/{body['id']}/run/")
    assert started.status_code == 202 and started.json()["kind"] == "maintenance.gc_run"
    job = JobRun.objects.get(pk=started.json()["id"])
    assert job.trigger == "api" and job.params["deadline"]
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    rows = viewer.get("/api/maintenance/instances/").json()
    assert [r["instance"] for r in rows] == ["harbor-1", "harbor-2", "harbor-3", "harbor-4"]
    assert rows[1]["expected_policy"] == "api" and rows[0]["expected_policy"] is None
    assert admin.delete(f"/api/maintenance/policies/{body['id']}/").status_code == 204
    assert not PeriodicTask.objects.filter(name="gc policy: api").exists()


def test_a_scheduled_run_outside_its_window_starts_nothing(gc_fleet: GCFleet) -> None:
    import datetime as dt

    from django.utils.timezone import localtime, now

    from harborops.maintenance import tasks
    from tests.maintenance.conftest import make_policy

    closed = (localtime(now()) + dt.timedelta(hours=3)).time().replace(second=0, microsecond=0)
    policy = make_policy(window_start=closed, window_minutes=60)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        assert tasks.run_policy(policy.pk).startswith("policy nightly: job ")
    job = JobRun.objects.get(kind="maintenance.gc_run")
    assert job.trigger == "scheduled" and job.params["deadline"] is None
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "4 skipped" in job.error
    assert set(GCStep.objects.filter(job=job).values_list("status", flat=True)) == {"skipped"}
    assert not any(inst.jobs.admin_jobs for inst in gc_fleet.sim)
    GCPolicy.objects.filter(pk=policy.pk).update(enabled=False)
    assert tasks.run_policy(policy.pk) == f"policy {policy.pk}: gone or disabled, nothing started"


def test_offline_registries_from_the_api_and_the_form(client: Client, alice: Any, bob: Any, db: None) -> None:
    from harborops.maintenance.models import OfflineTarget
    from harborops.ssh.models import SSHHost

    SSHHost.objects.create(name="edge", address="127.0.0.4", port=22, username="ops", private_key="k")
    admin = APIClient()
    admin.force_login(alice)
    body = {"name": "edge-registry", "host": "edge", "stop_mode": "command",
            "stop_command": ["/opt/reg ctl", "stop; reboot"], "start_command": ["/opt/reg ctl", "start"],
            "gc_command": ["docker-registry", "garbage-collect"], "config_path": "/etc/registry/config.yml",
            "storage_dir": "/var/lib/registry", "registry_url": "http://127.0.0.1:5000",
            "verify_refs": ["team/app:keep"]}
    created = admin.post("/api/maintenance/offline-targets/", body, format="json")
    assert created.status_code == 201, created.content
    target = OfflineTarget.objects.get()
    assert target.stop_command == ["/opt/reg ctl", "stop; reboot"]  # an argument list, never a shell string
    bad = admin.patch(f"/api/maintenance/offline-targets/{target.pk}/", {"stop_mode": "systemd"}, format="json")
    assert bad.status_code == 400 and "systemd_unit" in bad.json()
    operator = APIClient()
    operator.force_login(bob)
    assert operator.post("/api/maintenance/offline-targets/", body, format="json").status_code == 403
    policy = admin.post("/api/maintenance/policies/", {"name": "edge", "targets": "listed", "instances": [],
                                                       "offline_targets": ["edge-registry"]}, format="json")
    assert policy.status_code == 201, policy.content
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        run = operator.post(f"/api/maintenance/policies/{policy.json()['id']}/run/")
    assert run.status_code == 202
    assert list(GCStep.objects.values_list("instance_name", "offline_target__name")) == [
        ("edge-registry", "edge-registry")]
    client.force_login(alice)
    form = client.get(f"/maintenance/offline/{target.pk}/edit/").content.decode()
    assert "&#x27;/opt/reg ctl&#x27; &#x27;stop; reboot&#x27;" in form  # shown quoted, as it will run
    r = client.post(f"/maintenance/offline/{target.pk}/edit/", {
        "name": "edge-registry", "host": target.host_id, "stop_mode": "command", "stop_command": "'/opt/reg ctl' stop",
        "start_command": "'/opt/reg ctl' start", "gc_command": "", "config_path": "/etc/registry/config.yml",
        "storage_dir": "/var/lib/registry", "registry_url": "http://127.0.0.1:5000",
        "verify_refs": "team/app:keep\nteam/app:v2", "command_timeout": "3600", "notes": ""})
    assert r.status_code == 302
    target.refresh_from_db()
    assert target.stop_command == ["/opt/reg ctl", "stop"] and target.verify_refs == ["team/app:keep", "team/app:v2"]
    assert ActionLogEntry.objects.filter(action="maintenance.offline_target.update").count() == 1
