"""Pages, API, /metrics and the operator actions (trigger, stop, enable/disable) over real sockets."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.harbor_sim import push_artifact
from harborops.replication import services
from harborops.replication.models import Execution, FailedTask, Policy
from tests.replication.conftest import SimFleet
from tests.replication.test_collect import add_policy, endpoint, start

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]


@pytest.fixture
def collected(sims: SimFleet) -> SimFleet:
    """Instance 1 pushes to 2 (healthy), to 3 (its registry answers 503: failing) and has a hung run."""
    central = sims.instance(1)
    sims.instance(2)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    good = add_policy(sims, 1, endpoint(sims, 1, 2), "to-2")
    bad = add_policy(sims, 1, endpoint(sims, 1, 3), "to-3")
    slow = add_policy(sims, 1, endpoint(sims, 1, 2, name="slow"), "slow")
    start(sims, 1, good)
    sims.fleet[3].registry_fault = 503
    start(sims, 1, bad)
    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    start(sims, 1, slow)
    sims.catch_up()
    services.collect_many([central])
    return sims


def test_the_fleet_page_lists_and_filters_by_health(collected: SimFleet, client: Client, vera: User) -> None:
    client.force_login(vera)
    page = client.get("/replication/").content.decode()
    for name in ("to-2", "to-3", "slow"):
        assert name in page
    assert page.index("slow") < page.index("to-3") < page.index("to-2")  # worst first
    stuck = client.get("/replication/?health=stuck", HTTP_HX_REQUEST="true").content.decode()
    assert "slow" in stuck and "to-3" not in stuck and "<html" not in stuck
    failing = client.get("/replication/?health=failing").content.decode()
    assert "to-3" in failing and 'id="policy-' in failing


def test_the_policy_page_shows_failed_tasks_and_fetches_their_log(
        collected: SimFleet, client: Client, vera: User) -> None:
    client.force_login(vera)
    policy = Policy.objects.get(name="to-3")
    page = client.get(f"/replication/policies/{policy.pk}/").content.decode()
    task = FailedTask.objects.get()
    assert "library/app [1 item(s) in total]" in page and f"/replication/tasks/{task.pk}/log/" in page
    log = client.get(f"/replication/tasks/{task.pk}/log/", HTTP_HX_REQUEST="true").content.decode()
    assert "http status code: 503" in log
    collected.fleet[1].down = True  # the task log cannot be read: said so, no error page
    collected.server.stop()
    gone = client.get(f"/replication/tasks/{task.pk}/log/").content.decode()
    assert "Harbor could not be read" in gone


def test_the_api_lists_policies_executions_and_logs(collected: SimFleet, vera: User) -> None:
    api = APIClient()
    api.force_authenticate(vera)
    rows = api.get("/api/replication/policies/?health=failing").json()["results"]
    assert [r["name"] for r in rows] == ["to-3"]
    assert rows[0]["failure_rate_24h"] == 1.0 and rows[0]["last_status"] == "Failed"
    pk = rows[0]["id"]
    execs = api.get(f"/api/replication/policies/{pk}/executions/").json()["results"]
    task = execs[0]["failed_tasks"][0]
    assert execs[0]["status"] == "Failed" and task["operation"] == "copy"
    task_pk = FailedTask.objects.get().pk
    assert "mark the job failure" in api.get(f"/api/replication/tasks/{task_pk}/log/").json()["log"]
    regs = api.get("/api/replication/registries/").json()["results"]
    assert {r["name"] for r in regs} == {"to-2", "to-3", "slow"} and all(r["reachable"] for r in regs)
    states = api.get("/api/replication/instances/").json()["results"]
    assert {s["instance_name"] for s in states} == {"harbor-1"}
    assert api.post(f"/api/replication/policies/{pk}/trigger/").status_code == 403  # viewer


def test_metrics_expose_per_policy_gauges(collected: SimFleet, client: Client) -> None:
    body = client.get("/metrics").content.decode()
    assert 'harborops_replication_policy_health{instance="harbor-1",policy="slow"} 4.0' in body
    assert 'harborops_replication_policy_health{instance="harbor-1",policy="to-3"} 3.0' in body
    assert 'harborops_replication_policy_status{health="healthy",instance="harbor-1",policy="to-2"} 1.0' in body
    assert 'harborops_replication_policy_last_success_age_seconds{instance="harbor-1",policy="to-2"}' in body
    assert 'last_success_age_seconds{instance="harbor-1",policy="to-3"}' not in body  # never succeeded


def test_operator_triggers_disables_and_stops(collected: SimFleet, client: Client, bob: User) -> None:
    client.force_login(bob)
    sim = collected.fleet[1]
    good = Policy.objects.get(name="to-2")
    resp = client.post(f"/replication/policies/{good.pk}/trigger/", follow=True)
    assert b"started on harbor-1" in resp.content
    assert len([e for e in sim.jobs.repl.values() if e.policy_id == good.harbor_id]) == 2
    assert ActionLogEntry.objects.filter(action="replication.trigger", actor_name="bob").count() == 1

    client.post(f"/replication/policies/{good.pk}/enabled/", {"enabled": "false"})
    assert sim.store.policies[good.harbor_id]["enabled"] is False
    assert sim.store.policies[good.harbor_id]["name"] == "to-2"  # nothing else moved
    assert Policy.objects.get(pk=good.pk).enabled is False
    resp = client.post(f"/replication/policies/{good.pk}/trigger/", follow=True)
    assert b"is disabled" in resp.content  # Harbor's refusal, shown; nothing breaks
    assert ActionLogEntry.objects.filter(action="replication.trigger", outcome="failure").count() == 1
    assert client.post(f"/replication/policies/{good.pk}/enabled/", {"enabled": "maybe"}).status_code == 302
    assert sim.store.policies[good.harbor_id]["enabled"] is False

    hung = Execution.objects.get(policy__name="slow", status="InProgress")
    confirm = client.get(f"/replication/executions/{hung.pk}/stop/").content.decode()
    assert "partial copy" in confirm and "Stopped" in confirm
    client.post(f"/replication/executions/{hung.pk}/stop/")
    assert sim.jobs.repl[hung.harbor_id].stopped_at is not None
    assert Execution.objects.get(pk=hung.pk).status == "Stopped"
    assert {e.action for e in ActionLogEntry.objects.all()} >= {"replication.disable", "replication.stop"}


def test_the_api_actions(collected: SimFleet, bob: User) -> None:
    api = APIClient()
    api.force_authenticate(bob)
    good = Policy.objects.get(name="to-2")
    r = api.post(f"/api/replication/policies/{good.pk}/trigger/")
    assert r.status_code == 201 and r.json()["execution_id"] > 0
    r = api.post(f"/api/replication/policies/{good.pk}/enabled/", {"enabled": False}, format="json")
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert api.post(f"/api/replication/policies/{good.pk}/enabled/", {}, format="json").status_code == 400
    r = api.post(f"/api/replication/policies/{good.pk}/trigger/")
    assert r.status_code == 502 and "disabled" in r.json()["detail"]
    hung = Execution.objects.get(policy__name="slow", status="InProgress")
    r = api.post(f"/api/replication/executions/{hung.pk}/stop/")
    assert r.status_code == 200 and r.json()["status"] == "Stopped"
    job: dict[str, Any] = api.post("/api/replication/collect/").json()
    assert job["kind"] == "replication.collect"


def test_the_collect_job_reports_each_instance(sims: SimFleet) -> None:
    from harborops.core.actor import Actor
    from harborops.core.jobs.runner import execute
    from harborops.core.models import JobRun

    sims.instance(1)
    sims.instance(9, url="http://127.0.0.1:9")
    job = services.start_collect(actor=Actor.system("test"))
    execute(job.pk)
    job = JobRun.objects.get(pk=job.pk)
    assert job.status == "succeeded" and job.summary == "2 instance(s) collected, 1 failed"
