"""Schedules harborops owns: a beat entry per policy; a run does not start while one of the policy is
InProgress on Harbor (skip if running), and the skip is logged; set from the page and the API."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.harbor_sim import push_artifact
from harborops.replication import schedules, services
from harborops.replication.models import OwnedSchedule, Policy
from harborops.replication.tasks import fire_schedule
from tests.replication.conftest import SimFleet
from tests.replication.test_collect import add_policy, endpoint, start

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("test")


@pytest.fixture
def policy(sims: SimFleet) -> Policy:
    central = sims.instance(1)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    add_policy(sims, 1, endpoint(sims, 1, 2), "bulk")
    sims.catch_up()
    services.collect_many([central])
    return Policy.objects.get(name="bulk")


def _executions(sims: SimFleet, policy: Policy) -> list[Any]:
    return [e for e in sims.fleet[1].jobs.repl.values() if e.policy_id == policy.harbor_id]


def test_a_run_is_skipped_while_one_is_in_progress_and_logged(sims: SimFleet, policy: Policy, caplog: Any) -> None:
    schedule = schedules.set_schedule(policy, cron="*/30 * * * *", enabled=True, skip_if_running=True, actor=ACTOR)
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "harborops.replication.tasks.fire_schedule" and json.loads(task.args) == [schedule.pk]
    assert (task.crontab.minute, task.crontab.hour) == ("*/30", "*") and task.enabled

    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    hung = start(sims, 1, policy.harbor_id)
    caplog.set_level(logging.INFO, logger="harborops.replication.schedules")
    assert fire_schedule(schedule.pk) == f"{policy}: skipped: execution {hung} still InProgress"
    assert [e.id for e in _executions(sims, policy)] == [hung]  # nothing new started on Harbor
    schedule.refresh_from_db()
    assert schedule.last_outcome == "skipped" and schedule.last_fired_at is not None
    assert "skipped" in caplog.text
    skip = ActionLogEntry.objects.get(action="replication.schedule_skip")
    assert skip.message == f"skipped: execution {hung} still InProgress" and skip.actor_name

    with sims.instance_client(1) as c:
        c.stop_replication(hung)
    out = fire_schedule(schedule.pk)
    started = [e.id for e in _executions(sims, policy) if e.id != hung]
    assert len(started) == 1 and out == f"{policy}: execution {started[0]} started"
    schedule.refresh_from_db()
    assert schedule.last_outcome == "started" and schedule.last_execution_id == started[0]
    assert ActionLogEntry.objects.filter(action="replication.trigger", after__schedule=schedule.pk).count() == 1


def test_without_the_guard_it_starts_anyway_and_a_down_harbor_is_a_failed_outcome(
        sims: SimFleet, policy: Policy) -> None:
    schedule = schedules.set_schedule(policy, cron="0 * * * *", enabled=True, skip_if_running=False, actor=ACTOR)
    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    start(sims, 1, policy.harbor_id)
    fire_schedule(schedule.pk)
    assert len(_executions(sims, policy)) == 2
    type(policy.instance).objects.filter(pk=policy.instance_id).update(url="http://127.0.0.1:9")  # refused
    assert "failed:" in fire_schedule(schedule.pk)
    schedule.refresh_from_db()
    assert schedule.last_outcome == "failed"


def test_page_and_api_set_and_remove_it(policy: Policy, client: Client, bob: User, vera: User) -> None:
    client.force_login(bob)
    r = client.post(f"/replication/policies/{policy.pk}/schedule/", {"cron": "nope", "enabled": "1"}, follow=True)
    assert "cron expression needs 5 fields" in r.content.decode() and not OwnedSchedule.objects.exists()
    client.post(f"/replication/policies/{policy.pk}/schedule/", {"cron": "15 3 * * *", "enabled": "1",
                                                                  "skip_if_running": "1"})
    s = OwnedSchedule.objects.get()
    assert (s.cron, s.enabled, s.skip_if_running) == ("15 3 * * *", True, True)
    page = client.get(f"/replication/policies/{policy.pk}/").content.decode()
    assert "skipped while an execution of this policy is in progress" in page

    api = APIClient()
    api.force_authenticate(vera)
    assert api.get(f"/api/replication/policies/{policy.pk}/schedule/").json()["cron"] == "15 3 * * *"
    assert api.put(f"/api/replication/policies/{policy.pk}/schedule/", {"cron": "0 1 * * *"}, format="json"
                   ).status_code == 403
    api.force_authenticate(bob)
    r = api.put(f"/api/replication/policies/{policy.pk}/schedule/",
                {"cron": "0 1 * * *", "skip_if_running": False}, format="json")
    assert r.status_code == 200 and r.json()["skip_if_running"] is False
    assert PeriodicTask.objects.get(pk=OwnedSchedule.objects.get().periodic_task_id).crontab.hour == "1"
    assert api.delete(f"/api/replication/policies/{policy.pk}/schedule/").status_code == 204
    assert not OwnedSchedule.objects.exists() and not PeriodicTask.objects.filter(
        task="harborops.replication.tasks.fire_schedule").exists()
    assert {"replication.schedule_set", "replication.schedule_delete"} <= set(
        ActionLogEntry.objects.values_list("action", flat=True))
