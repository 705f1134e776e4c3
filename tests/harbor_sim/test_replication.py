"""Replication between simulated instances of one Fleet moves real state.

Sources (Harbor v2.13.0 unless named; the same code at v2.8.0 and v2.15.0):
src/controller/replication/flow/copy.go copyFlow.Run/createTasks, flow/stage.go replaceNamespace/getResourceName,
src/pkg/reg/filter/{repository,artifact}.go, src/pkg/reg/util/pattern.go Match (doublestar),
src/controller/event/handler/replication/event/handler.go getRelatedPolicies,
src/controller/replication/transfer/image/transfer.go copy/copyArtifact/delete (log lines),
src/controller/replication/execution.go Start/markError (status text),
src/controller/replication/execution.go@v2.14.0 Start (single_active_replication),
src/controller/replication/model/model.go@v2.9.0 Policy.Validate (cron rules; absent @v2.8.0).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from harborops.harbor_sim import Fleet
from harborops.harbor_sim.replicate import cron_fires, match, replace_namespace
from harborops.harbor_sim.routes.artifacts import push_artifact
from tests.harbor_sim.conftest import ADMIN, client_for, drop_cookies

pytestmark = pytest.mark.timeout(60)
PEER = "http://peer-b.sim"
HOOKS: dict[str, Any] = {"request": [drop_cookies]}
CRED = {"type": "basic", "access_key": "admin", "access_secret": "Harbor12345"}


def location_id(r: httpx.Response) -> int:
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[-1])


def pair(version: str = "2.13.0") -> tuple[Fleet, httpx.Client, httpx.Client, int]:
    """Instances 1 and 2; on 1 a registry endpoint whose URL is instance 2."""
    fleet = Fleet.create(2, version)
    fleet.bind_url(PEER, fleet[2])
    a, b = client_for(fleet, 1), client_for(fleet, 2)
    reg = location_id(
        a.post(
            "/registries",
            json={"name": "b", "url": PEER, "type": "harbor", "insecure": True,
                  "credential": CRED},
        )
    )  # fmt: skip
    return fleet, a, b, reg


def policy(c: httpx.Client, reg: int, *, pull: bool = False, **fields: Any) -> int:
    body: dict[str, Any] = {
        "name": fields.pop("name", "p"),
        "trigger": {"type": "manual"},
        "enabled": True,
        "override": True,
        **fields,
    }
    body["src_registry" if pull else "dest_registry"] = {"id": reg}
    return location_id(c.post("/replication/policies", json=body))


def tags_of(c: httpx.Client, project: str, repo: str) -> dict[str, list[str]]:
    r = c.get(f"/projects/{project}/repositories/{repo}/artifacts")
    if r.status_code == 404:
        return {}
    return {a["digest"]: sorted(t["name"] for t in a.get("tags") or []) for a in r.json()}


def run(fleet: Fleet, c: httpx.Client, pid: int, seconds: float = 600) -> dict[str, Any]:
    ex = location_id(c.post("/replication/executions", json={"policy_id": pid}))
    fleet.advance(seconds)
    return dict(c.get(f"/replication/executions/{ex}").json())


def test_it_copies_matching_artifacts_by_digest_with_tags() -> None:
    fleet, a, b, reg = pair()
    one = push_artifact(fleet[1], "library", "app", "v1", 100)
    push_artifact(fleet[1], "library", "app", "latest", 100, digest=one.digest)
    push_artifact(fleet[1], "library", "app", "dev", 50)
    push_artifact(fleet[1], "library", "other", "v1", 10)
    pid = policy(a, reg, filters=[{"type": "name", "value": "library/app"}, {"type": "tag", "value": "v*"}])
    ex = run(fleet, a, pid)
    assert ex["status"] == "Succeed" and ex["total"] == ex["succeed"] == 1
    assert tags_of(b, "library", "app") == {one.digest: ["v1"]}  # only the matched tag travels
    assert tags_of(b, "library", "other") == {}
    task = a.get(f"/replication/executions/{ex['id']}/tasks").json()[0]
    assert (task["operation"], task["resource_type"]) == ("copy", "artifact")
    assert task["src_resource"] == "library/app [1 item(s) in total]"
    log = a.get(f"/replication/executions/{ex['id']}/tasks/{task['id']}/log").text
    assert "copy library/app:[v1](source registry) to library/app:[v1](destination registry) completed" in log
    # again: the same digest is already there
    again = run(fleet, a, pid)
    task2 = a.get(f"/replication/executions/{again['id']}/tasks").json()[0]
    assert "already exists on the destination registry, skip" in a.get(
        f"/replication/executions/{again['id']}/tasks/{task2['id']}/log"
    ).text


def test_it_honours_name_doublestar_and_label_filters() -> None:
    assert match("library/**", "library/a/b") and not match("library/*", "library/a/b")
    assert match("library/*", "library/a") and match("{a,b}/x", "b/x") and match("", "anything")
    fleet, a, b, reg = pair()
    push_artifact(fleet[1], "library", "team/a", "v1", 10, labels=["prod"])
    push_artifact(fleet[1], "library", "team/b", "v1", 10)
    push_artifact(fleet[1], "library", "c", "v1", 10, labels=["prod"])
    pid = policy(a, reg, filters=[{"type": "name", "value": "library/team/**"},
                                  {"type": "label", "value": ["prod"]}])  # fmt: skip
    assert run(fleet, a, pid)["total"] == 1
    assert tags_of(b, "library", "team%252Fa") and not tags_of(b, "library", "team%252Fb")
    assert not tags_of(b, "library", "c")
    excl = policy(a, reg, name="excl", filters=[{"type": "label", "value": ["prod"], "decoration": "excludes"}])
    run(fleet, a, excl)
    assert tags_of(b, "library", "team%252Fb") and not tags_of(b, "library", "c")
    none = policy(a, reg, name="charts", filters=[{"type": "resource", "value": "chart"}])
    ex = run(fleet, a, none)
    assert ex["status"] == "Succeed" and ex["total"] == 0 and ex["status_text"] == "no resources need to be replicated"


@pytest.mark.parametrize(
    ("count", "expected"),
    [(-1, "dst/image"), (0, "dst/a/b/c/image"), (1, "dst/b/c/image"), (3, "dst/image")],
)
def test_it_maps_namespaces_like_stage_go(count: int, expected: str) -> None:
    assert replace_namespace("a/b/c/image", "dst", count) == expected


def test_it_honours_dest_namespace_and_fails_a_bad_replace_count() -> None:
    fleet, a, b, reg = pair()
    push_artifact(fleet[1], "library", "x/app", "v1", 10)
    pid = policy(a, reg, dest_namespace="mirror", dest_namespace_replace_count=1)
    assert run(fleet, a, pid)["status"] == "Succeed"
    assert tags_of(b, "mirror", "x%252Fapp")  # library/x/app -> mirror/x/app; project created on the peer
    bad = policy(a, reg, name="bad", dest_namespace="mirror", dest_namespace_replace_count=3)
    ex = run(fleet, a, bad)
    assert ex["status"] == "Failed" and ex["total"] == 0 and "flattening level is 3" in ex["status_text"]


def test_it_respects_override_false() -> None:
    fleet, a, b, reg = pair()
    push_artifact(fleet[1], "library", "app", "v1", 10)
    theirs = push_artifact(fleet[2], "library", "app", "v1", 20)
    pid = policy(a, reg, override=False)
    ex = run(fleet, a, pid)
    assert ex["status"] == "Succeed"
    assert tags_of(b, "library", "app") == {theirs.digest: ["v1"]}
    task = a.get(f"/replication/executions/{ex['id']}/tasks").json()[0]
    log = a.get(f"/replication/executions/{ex['id']}/tasks/{task['id']}/log").text
    assert 'but the "override" is set to false, skip' in log
    ours = policy(a, reg, name="ovr", override=True)
    run(fleet, a, ours)
    # the tag moves to our digest; theirs stays, untagged (as a registry push does)
    assert tags_of(b, "library", "app") == {theirs.digest: [], ours_digest(fleet): ["v1"]}


def ours_digest(fleet: Fleet) -> str:
    return next(a.digest for r in fleet[1].store.repositories.values() for a in r.artifacts.values())


def test_event_based_push_and_deletion_follow_replicate_deletion() -> None:
    fleet, a, b, reg = pair()
    policy(a, reg, name="ev", trigger={"type": "event_based"}, replicate_deletion=True,
           filters=[{"type": "name", "value": "library/**"}])  # fmt: skip
    art = push_artifact(fleet[1], "library", "app", "v1", 10)
    runs = a.get("/replication/executions").json()
    assert [r["trigger"] for r in runs] == ["event_based"]
    fleet.advance(120)
    assert tags_of(b, "library", "app") == {art.digest: ["v1"]}
    assert a.delete(f"/projects/library/repositories/app/artifacts/{art.digest}").status_code == 200
    fleet.advance(120)
    dele = a.get("/replication/executions").json()[0]
    assert dele["status"] == "Succeed"
    assert a.get(f"/replication/executions/{dele['id']}/tasks").json()[0]["operation"] == "deletion"
    assert tags_of(b, "library", "app") == {}


def test_deletion_is_not_replicated_without_replicate_deletion() -> None:
    fleet, a, b, reg = pair()
    policy(a, reg, name="ev", trigger={"type": "event_based"}, replicate_deletion=False)
    art = push_artifact(fleet[1], "library", "app", "v1", 10)
    fleet.advance(120)
    a.delete(f"/projects/library/repositories/app/artifacts/{art.digest}")
    fleet.advance(120)
    assert len(a.get("/replication/executions").json()) == 1
    assert tags_of(b, "library", "app") == {art.digest: ["v1"]}


def test_pull_policy_copies_from_the_peer() -> None:
    fleet, a, _b, reg = pair()
    art = push_artifact(fleet[2], "library", "base", "1.0", 10)
    pid = policy(a, reg, pull=True, dest_namespace="pulled")
    assert run(fleet, a, pid)["status"] == "Succeed"
    assert tags_of(a, "pulled", "base") == {art.digest: ["1.0"]}


def test_scheduled_policy_runs_on_its_cron_in_simulated_time() -> None:
    fleet, a, b, reg = pair()
    push_artifact(fleet[1], "library", "app", "v1", 10)
    cron = {"type": "scheduled", "trigger_settings": {"cron": "0 0 * * * *"}}
    pid = policy(a, reg, trigger=cron)
    fleet.advance(3 * 3600 + 10)
    runs = a.get("/replication/executions", params={"policy_id": pid}).json()
    assert [r["trigger"] for r in runs] == ["scheduled"] * 3
    assert {r["start_time"][14:] for r in runs} == {"00:00.000Z"}
    assert tags_of(b, "library", "app")
    a.put(f"/replication/policies/{pid}", json={"name": "p", "dest_registry": {"id": reg}, "trigger": cron,
                                                "enabled": False})  # fmt: skip
    fleet.advance(3 * 3600)
    assert len(a.get("/replication/executions", params={"policy_id": pid}).json()) == 3


def test_cron_fires_are_robfig_like() -> None:
    from datetime import UTC, datetime

    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    assert len(cron_fires("0 */15 * * * *", t0, datetime(2025, 1, 1, 1, tzinfo=UTC))) == 4
    assert cron_fires("0 30 2 * * 0", t0, datetime(2025, 1, 8, tzinfo=UTC)) == [datetime(2025, 1, 5, 2, 30, tzinfo=UTC)]


@pytest.mark.parametrize(("version", "rejected"), [("2.8.0", False), ("2.13.0", True), ("2.15.0", True)])
def test_minute_star_cron_is_rejected_from_2_9(version: str, rejected: bool) -> None:
    _fleet, a, _b, reg = pair(version)
    body = {"name": "s", "dest_registry": {"id": reg},
            "trigger": {"type": "scheduled", "trigger_settings": {"cron": "0 * * * * *"}}}  # fmt: skip
    r = a.post("/replication/policies", json=body)
    assert r.status_code == (400 if rejected else 201), r.text
    if rejected:
        assert "Minutes field" in r.json()["errors"][0]["message"]


def test_destination_down_fails_tasks_with_harbor_log_lines() -> None:
    fleet, a, _b, reg = pair()
    push_artifact(fleet[1], "library", "app", "v1", 10)
    pid = policy(a, reg)
    fleet[2].registry_fault = 503
    ex = run(fleet, a, pid)
    assert ex["status"] == "Failed" and ex["failed"] == 1
    task = a.get(f"/replication/executions/{ex['id']}/tasks", params={"status": "Failed"}).json()[0]
    log = a.get(f"/replication/executions/{ex['id']}/tasks/{task['id']}/log").text
    assert "failed to check the existence of the manifest of artifact library/app:v1" in log
    assert "http status code: 503" in log
    assert "got error during the whole transfer period, mark the job failure" in log
    fleet[2].registry_fault = None
    fleet[2].down = True
    down = run(fleet, a, pid)
    assert down["status"] == "Failed" and down["total"] == 0
    assert down["status_text"].startswith("failed to do the prepare work for pushing/uploading resources:")
    assert a.post("/registries/ping", json={"id": reg}).status_code == 400


def test_a_hung_task_keeps_the_execution_in_progress_until_stopped() -> None:
    fleet, a, b, reg = pair()
    push_artifact(fleet[1], "library", "app", "v1", 10)
    pid = policy(a, reg)
    fleet[1].jobs.set_outcome("replication", "hang", once=True)
    ex = location_id(a.post("/replication/executions", json={"policy_id": pid}))
    fleet.advance(6 * 3600)
    assert a.get(f"/replication/executions/{ex}").json()["status"] == "InProgress"
    assert tags_of(b, "library", "app") == {}
    assert a.put(f"/replication/executions/{ex}").status_code == 200
    stopped = a.get(f"/replication/executions/{ex}").json()
    assert stopped["status"] == "Stopped" and stopped["stopped"] == 1
    fleet.advance(3600)
    assert tags_of(b, "library", "app") == {}


def test_single_active_replication_skips_a_second_run_on_2_15() -> None:
    fleet, a, _b, reg = pair("2.15.0")
    push_artifact(fleet[1], "library", "app", "v1", 10)
    pid = policy(a, reg, single_active_replication=True)
    first = location_id(a.post("/replication/executions", json={"policy_id": pid}))
    second = location_id(a.post("/replication/executions", json={"policy_id": pid}))
    skipped = a.get(f"/replication/executions/{second}").json()
    assert skipped["status"] == "Failed"
    assert skipped["status_text"] == "Execution skipped: active replication still in progress."
    fleet.advance(600)
    assert a.get(f"/replication/executions/{first}").json()["status"] == "Succeed"


def test_two_way_event_policies_settle_after_one_bounce() -> None:
    fleet, a, b, reg = pair()
    fleet.bind_url("http://peer-a.sim", fleet[1])
    back = location_id(b.post("/registries", json={"name": "a", "url": "http://peer-a.sim", "type": "harbor",
                                                    "insecure": True, "credential": CRED}))  # fmt: skip
    policy(a, reg, name="ab", trigger={"type": "event_based"}, replicate_deletion=True)
    policy(b, back, name="ba", trigger={"type": "event_based"}, replicate_deletion=True)
    art = push_artifact(fleet[1], "library", "app", "v1", 10)
    fleet.advance(600)
    fleet.advance(600)
    assert tags_of(b, "library", "app") == {art.digest: ["v1"]}
    assert len(b.get("/replication/executions").json()) == 1  # the bounce back: "already exists, skip"
    assert len(a.get("/replication/executions").json()) == 1


def test_over_real_sockets_an_endpoint_url_of_the_server_is_that_instance() -> None:
    """SimServer binds every instance URL it serves (Fleet.bind_url): no alias needed."""
    from harborops.harbor_sim import SimServer

    fleet = Fleet.create(3, ["2.8.0", "2.13.0", "2.15.0"])
    with SimServer(fleet) as server:
        with httpx.Client(base_url=server.instance_url(1) + "/api/v2.0", auth=ADMIN, event_hooks=HOOKS) as a:
            for n in (2, 3):
                reg = location_id(a.post("/registries", json={"name": f"r{n}", "url": server.instance_url(n),
                                                              "type": "harbor", "insecure": True,
                                                              "credential": CRED}))  # fmt: skip
                policy(a, reg, name=f"to{n}", trigger={"type": "event_based"})
            art = push_artifact(fleet[1], "library", "app", "v1", 10)
            fleet.advance(120)
            assert all(r["status"] == "Succeed" for r in a.get("/replication/executions").json())
        for n in (2, 3):
            with httpx.Client(base_url=server.instance_url(n) + "/api/v2.0", auth=ADMIN, event_hooks=HOOKS) as c:
                assert tags_of(c, "library", "app") == {art.digest: ["v1"]}


def test_a_wrong_credential_on_the_endpoint_fails_like_a_401_from_the_peer() -> None:
    fleet, a, _b, _reg = pair()
    push_artifact(fleet[1], "library", "app", "v1", 10)
    bad = location_id(a.post("/registries", json={"name": "wrong", "url": PEER, "type": "harbor", "insecure": True,
                                                   "credential": {**CRED, "access_secret": "nope"}}))  # fmt: skip
    ex = run(fleet, a, policy(a, bad, name="w"))
    assert ex["status"] == "Failed" and ex["total"] == 0 and "http status code: 401" in ex["status_text"]
