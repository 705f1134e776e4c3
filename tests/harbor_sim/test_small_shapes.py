"""Small shapes from Harbor's source (#10 part 8): HEAD /projects, missing projects, configurations,
replication execution/task times and statuses."""

from __future__ import annotations

from harborops.harbor_sim import Fleet, HarborInstance
from tests.harbor_sim.conftest import Api, location_id

ZERO = "0001-01-01T00:00:00.000Z"


def _user(api: Api, name: str = "erin") -> tuple[str, str]:
    body = {"username": name, "email": f"{name}@example.com", "realname": name, "password": "Secret123"}
    location_id(api().post("/users", json=body))
    return (name, "Secret123")


def test_head_projects_needs_authentication(api: Api) -> None:
    """Source: src/server/v2.0/handler/project.go@v2.13.0 HeadProject (RequireAuthenticated, then GetByName)
    -- same at v2.3.0."""
    anon = api(auth=None, checked=False)  # the spec declares no 401 for HEAD /projects
    assert anon.head("/projects", params={"project_name": "library"}).status_code == 401
    user = api(auth=_user(api))
    assert user.head("/projects", params={"project_name": "library"}).status_code == 200
    assert user.head("/projects", params={"project_name": "nope"}).status_code == 404


def test_a_missing_project_is_403_for_non_admins_and_404_for_admins(api: Api) -> None:
    """Source: src/server/v2.0/handler/base.go@v2.13.0 RequireProjectAccess/HasProjectPermission (runs before
    the lookup) and src/common/rbac/project/evaluator.go@v2.13.0 NewEvaluator (no project: no evaluator)."""
    raw = api(checked=False)
    user = api(auth=_user(api), checked=False)
    anon = api(auth=None, checked=False)
    for path in ("/projects/999", "/projects/nope/summary", "/projects/999/members", "/projects/nope/repositories"):
        headers = {"X-Is-Resource-Name": "true"} if "nope" in path else {}
        assert user.get(path, headers=headers).status_code == 403, path
        assert anon.get(path, headers=headers).status_code == 401, path
        assert raw.get(path, headers=headers).status_code == 404, path
    assert user.delete("/projects/999").status_code == 403
    assert raw.delete("/projects/999").status_code == 404


def test_configurations_editable_and_unknown_keys(api: Api, inst: HarborInstance) -> None:
    """Source: src/controller/config/controller.go@v2.13.0 ConvertForGet (editable = !readOnlyForAll; auth_mode
    also needs authModeCanBeModified: no user besides admin), validateCfg (auth mode error), UpdateUserConfigs
    (CONFIG_OVERWRITE_JSON: 403); src/server/v2.0/handler/config.go@v2.13.0 UpdateConfigurations (the body is
    decoded into models.Configurations, so unknown keys are dropped)."""
    c = api()
    cfg = c.get("/configurations").json()
    assert all(item["editable"] for item in cfg.values()) and cfg["auth_mode"]["editable"] is True
    raw = api(checked=False)  # the request schema has no such key
    assert raw.put("/configurations", json={"no_such_key": 1, "ldap_uid": "uid"}).status_code == 200
    cfg = c.get("/configurations").json()
    assert "no_such_key" not in cfg and cfg["ldap_uid"]["value"] == "uid"
    _user(api)
    assert c.get("/configurations").json()["auth_mode"]["editable"] is False
    bad = c.put("/configurations", json={"auth_mode": "ldap_auth"})
    assert bad.status_code == 400
    assert "the auth mode cannot be modified as new users have been inserted into database" in bad.text
    assert c.put("/configurations", json={"auth_mode": "db_auth"}).status_code == 200  # unchanged value is fine
    inst.pinned_config = {"ldap_url"}  # Harbor started with CONFIG_OVERWRITE_JSON
    assert not any(item["editable"] for item in c.get("/configurations").json().values())
    denied = raw.put("/configurations", json={"ldap_uid": "cn"})
    assert denied.status_code == 403 and "CONFIG_OVERWRITE_JSON" in denied.text


def _policy(api: Api) -> int:
    c = api()
    reg = location_id(
        c.post(
            "/registries",
            json={"name": "hub", "url": "https://hub.sim", "type": "docker-hub", "insecure": False,
                  "credential": {"type": "basic", "access_key": "u", "access_secret": "s"}},
        )
    )
    return location_id(
        c.post(
            "/replication/policies",
            json={"name": "pull", "src_registry": {"id": reg}, "dest_namespace": "library",
                  "filters": [{"type": "name", "value": "library/nginx"}],
                  "trigger": {"type": "manual", "trigger_settings": {"cron": ""}}, "override": True,
                  "enabled": True},
        )
    )


def test_replication_end_time_always_present_and_tasks_can_be_pending(api: Api, fleet: Fleet) -> None:
    """Source: src/server/v2.0/handler/replication.go@v2.13.0 convertExecution (EndTime always set, in_progress =
    pending + scheduled + running) and convertTask (Pending passes through); src/pkg/task/task.go@v2.13.0
    createTaskRecord (a task starts Pending, no start time); src/pkg/task/dao/execution.go@v2.13.0 refreshStatus."""
    from harborops.harbor_sim import HarborInstance
    from harborops.harbor_sim.routes.artifacts import push_artifact

    hub = HarborInstance("2.13.0", clock=fleet.clock)  # the pull source (flow/copy.go: no resources -> no tasks)
    fleet.add(hub)
    fleet.bind_url("https://hub.sim", hub)
    push_artifact(hub, "library", "nginx", "1.0", 10)
    hub.add_user("u", "s")  # the endpoint's credential (u / s) is a user of the peer
    c = api()
    pol = _policy(api)
    running = location_id(c.post("/replication/executions", json={"policy_id": pol}))
    ex = c.get(f"/replication/executions/{running}").json()
    assert ex["status"] == "InProgress" and ex["end_time"] == ZERO
    assert all(t["end_time"] == ZERO for t in c.get(f"/replication/executions/{running}/tasks").json())
    fleet.advance(120)
    done = c.get(f"/replication/executions/{running}").json()
    assert done["status"] == "Succeed" and done["end_time"] != ZERO
    assert c.put("/jobservice/queues/REPLICATION", json={"action": "pause"}).status_code == 200
    waiting = location_id(c.post("/replication/executions", json={"policy_id": pol}))
    fleet.advance(600)
    tasks = c.get(f"/replication/executions/{waiting}/tasks").json()
    assert {t["status"] for t in tasks} == {"Pending"} and {t["start_time"] for t in tasks} == {ZERO}
    assert [t["id"] for t in c.get(f"/replication/executions/{waiting}/tasks", params={"status": "Pending"}).json()]
    ex = c.get(f"/replication/executions/{waiting}").json()
    assert ex["status"] == "InProgress" and ex["in_progress"] == ex["total"] and ex["end_time"] == ZERO
    queue = {q["job_type"]: q for q in c.get("/jobservice/queues").json()}["REPLICATION"]
    assert queue["paused"] and queue["count"] == len(tasks)
    assert c.put("/jobservice/queues/REPLICATION", json={"action": "resume"}).status_code == 200
    fleet.advance(120)
    assert c.get(f"/replication/executions/{waiting}").json()["status"] == "Succeed"
