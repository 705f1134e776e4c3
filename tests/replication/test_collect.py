"""The collector against a simulated fleet over real sockets: registries with live ping, policies,
incremental executions, failed tasks; stuck executions, destination outages, unreachable instances."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from harborops.harbor_sim import push_artifact
from harborops.replication import services
from harborops.replication.models import CollectState, Execution, FailedTask, Policy, Registry
from tests.replication.conftest import SimFleet, make_fleet

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]


def endpoint(sims: SimFleet, src: int, dst: int, name: str | None = None) -> int:
    """On instance `src`, a registry endpoint whose URL is instance `dst` (as an admin would add it)."""
    h = sims.fleet[src]
    with sims.instance_client(src) as c:
        return int(c.create_registry({"name": name or f"to-{dst}", "url": sims.url(dst), "type": "harbor",
                                      "insecure": True, "credential": {"type": "basic", "access_key": "admin",
                                                                       "access_secret": h.admin.password}}))


def add_policy(sims: SimFleet, src: int, reg: int, name: str, **fields: Any) -> int:
    body = {"name": name, "dest_registry": {"id": reg}, "trigger": {"type": "manual"}, "enabled": True,
            "override": True, **fields}
    with sims.instance_client(src) as c:
        return int(c.create_replication_policy(body))


def start(sims: SimFleet, src: int, policy_id: int) -> int:
    with sims.instance_client(src) as c:
        return int(c.start_replication(policy_id))


def test_it_collects_registries_policies_executions_and_failed_tasks(sims: SimFleet) -> None:
    central = sims.instance(1)
    sims.instance(2)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    ok_reg, bad_reg = endpoint(sims, 1, 2), endpoint(sims, 1, 3)
    good = add_policy(sims, 1, ok_reg, "to-regional-2")
    bad = add_policy(sims, 1, bad_reg, "to-regional-3")
    start(sims, 1, good)
    sims.fleet[3].registry_fault = 503  # regional 3's registry answers 503: the copy task fails
    start(sims, 1, bad)
    sims.catch_up()

    result = services.collect_many([central])[0]
    assert not result.error, result.error
    assert (result.registries, result.policies, result.executions, result.failed_tasks) == (2, 2, 2, 1)
    assert set(Registry.objects.values_list("name", "reachable")) == {("to-2", True), ("to-3", True)}
    healthy = Policy.objects.get(name="to-regional-2")
    failing = Policy.objects.get(name="to-regional-3")
    assert (healthy.health, healthy.last_status) == ("healthy", "Succeed")
    assert healthy.last_success_at is not None and healthy.failure_rate_24h == 0
    assert (failing.health, failing.last_status, failing.failure_rate_24h) == ("failing", "Failed", 1.0)
    task = FailedTask.objects.get()
    assert task.execution.policy == failing and task.src_resource == "library/app [1 item(s) in total]"
    log = services.task_log(task)  # read from Harbor on demand
    assert "http status code: 503" in log
    assert "got error during the whole transfer period, mark the job failure" in log

    # The peer goes down entirely: the live ping says so at the next collection.
    sims.fleet[3].down = True
    services.collect_many([central])
    assert Registry.objects.get(name="to-3").reachable is False


def test_collection_is_incremental(sims: SimFleet) -> None:
    central = sims.instance(1)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    pid = add_policy(sims, 1, endpoint(sims, 1, 2), "p")
    for _ in range(3):
        start(sims, 1, pid)
    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    hung = start(sims, 1, pid)
    sims.catch_up()
    services.collect_many([central])
    assert CollectState.objects.get().executions_read == 4
    served = sims.fleet[1].requests_served
    services.collect_many([central])
    # nothing new: only the running one is re-read
    assert CollectState.objects.get().executions_read == 1
    start(sims, 1, pid)
    services.collect_many([central])
    assert CollectState.objects.get().executions_read == 2  # the new one and the still-running one
    assert Execution.objects.count() == 5
    assert Execution.objects.get(harbor_id=hung).status == "InProgress"
    assert sims.fleet[1].requests_served > served


def test_a_hung_execution_is_reported_stuck_and_can_be_stopped(sims: SimFleet, settings: Any, bob: Any) -> None:
    settings.REPLICATION_STUCK_MINUTES = 60
    central = sims.instance(1)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    pid = add_policy(sims, 1, endpoint(sims, 1, 2), "p")
    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    hung = start(sims, 1, pid)  # started 6 h ago by harborops' clock
    sims.catch_up()
    services.collect_many([central])
    policy = Policy.objects.get()
    assert (policy.health, policy.stuck_count) == ("stuck", 1)
    assert "in progress, the oldest for 3" in policy.health_reason  # ~360 min

    from harborops.core.actor import Actor

    execution = Execution.objects.get(harbor_id=hung)
    services.stop_execution(execution, actor=Actor.for_user(bob))
    execution.refresh_from_db()
    assert execution.status == "Stopped"
    assert Policy.objects.get().health != "stuck"
    from harborops.audit.models import ActionLogEntry

    entry = ActionLogEntry.objects.get(action="replication.stop")
    assert entry.actor_name == "bob" and entry.before == {"status": "InProgress"}


def test_one_unreachable_instance_never_stops_the_others(sims: SimFleet) -> None:
    dead = sims.instance(9, url="http://127.0.0.1:9")  # nothing listens on the discard port
    alive = sims.instance(1)
    results = services.collect_many([dead, alive])
    assert results[0].error and not results[1].error
    assert CollectState.objects.get(instance=dead).last_error
    assert CollectState.objects.get(instance=alive).last_ok_at is not None


def test_scheduled_runs_in_simulated_time_are_collected(sims: SimFleet) -> None:
    central = sims.instance(1)
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    cron = {"type": "scheduled", "trigger_settings": {"cron": "0 0 * * * *"}}
    add_policy(sims, 1, endpoint(sims, 1, 2), "hourly", trigger=cron)
    sims.catch_up()  # six simulated hours pass: six scheduled runs
    services.collect_many([central])
    policy = Policy.objects.get()
    runs = list(policy.executions.values_list("trigger", flat=True))
    assert runs and set(runs) == {"scheduled"} and len(runs) in (5, 6)
    assert (policy.health, policy.missed_runs) == ("healthy", 0)


@pytest.mark.parametrize("version", ["2.3.0", "2.8.0", "2.13.0", "2.15.0"])
def test_it_reads_every_version(version: str, db: None) -> None:
    for sims in make_fleet([version, "2.13.0"]):
        central = sims.instance(1)
        push_artifact(sims.fleet[1], "library", "app", "v1", 10)
        pid = add_policy(sims, 1, endpoint(sims, 1, 2), "p")
        start(sims, 1, pid)
        sims.catch_up(leave=timedelta(seconds=1))
        result = services.collect_many([central])[0]
        assert not result.error, result.error
        assert Policy.objects.get().last_status == "Succeed"
        assert Execution.objects.get().succeed == 1


def test_the_collector_is_a_system_schedule_fanning_out_per_instance(
        sims: SimFleet, django_capture_on_commit_callbacks: Any) -> None:
    from unittest import mock

    from harborops.replication import tasks
    from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule

    entry = next(e for e in SYSTEM_SCHEDULES if e.env == "HARBOROPS_REPLICATION_COLLECT_CRON")
    beat = build_beat_schedule([entry], environ={})["harborops: Collect replication state"]
    assert beat["task"] == "harborops.replication.tasks.collect_fleet" and beat["options"]["queue"] == "periodic"
    assert build_beat_schedule([entry], environ={"HARBOROPS_REPLICATION_COLLECT_CRON": "disable"}) == {}
    one, two = sims.instance(1), sims.instance(2)
    sims.instance(3, enabled=False)
    with mock.patch.object(tasks.collect_one, "apply_async") as queued, \
            django_capture_on_commit_callbacks(execute=True):
        assert tasks.collect_fleet() == "2 instances queued"
    assert [c.kwargs["args"] for c in queued.call_args_list] == [(one.pk,), (two.pk,)]
    assert tasks.collect_one(one.pk).startswith("harbor-1: 0 registries, 0 policies")
