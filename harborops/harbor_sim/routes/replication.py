"""Registries (endpoints), replication policies, executions, tasks and task logs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harborops.harbor_sim import spec
from harborops.harbor_sim.auth import require_system
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, lookup, not_found
from harborops.harbor_sim.jobs import ReplExecution
from harborops.harbor_sim.query import (
    EXECUTION_FIELDS,
    REGISTRY_FIELDS,
    REGISTRY_SHOWN,
    filter_rows,
    parse_q,
    parse_sort,
    query_rows,
    sort_rows,
)
from harborops.harbor_sim.replicate import check_policy_cron, mark_busy, resolve, resolve_url
from harborops.harbor_sim.routes import Ctx, RouteSet, created, empty, ok, paged, text
from harborops.harbor_sim.state import Registry

routes = RouteSet()
ADAPTERS = (
    "harbor",
    "docker-hub",
    "docker-registry",
    "huawei-SWR",
    "google-gcr",
    "aws-ecr",
    "azure-acr",
    "ali-acr",
    "jfrog-artifactory",
    "quay",
    "gitlab",
    "dtr",
    "tencent-tcr",
    "github-ghcr",
    "volcengine-cr",
    "helm-hub",
    "artifact-hub",
)
ZERO_TIME = iso(datetime(1, 1, 1, tzinfo=UTC))


def render_registry(ctx: Ctx, r: Registry) -> dict[str, Any]:
    cred = {"type": r.credential.get("type", "basic"), "access_key": r.credential.get("access_key", "")}
    if r.credential.get("access_secret"):
        cred["access_secret"] = "*****"
    out = {
        "id": r.id,
        "name": r.name,
        "url": r.url,
        "type": r.type,
        "credential": cred,
        "insecure": r.insecure,
        "description": r.description,
        "status": "healthy" if r.healthy else "unhealthy",
        "ca_certificate": r.ca_certificate,
        "creation_time": iso(r.creation_time),
        "update_time": iso(r.update_time),
    }
    return spec.shape(ctx.inst.spec_name, "Registry", out)


LOCAL_REGISTRY = {
    "id": 0,
    "name": "Local",
    "url": "http://core:8080",
    "type": "harbor",
    "insecure": True,
    "credential": {"type": "secret", "access_secret": "*****"},
    "description": "",
    "status": "healthy",
    "creation_time": ZERO_TIME,
    "update_time": ZERO_TIME,
}


def _registry(ctx: Ctx, raw: Any) -> Registry:
    return lookup(ctx.inst.store.registries, raw, "registry")


@routes.get("/registries")
def list_registries(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "list")
    rows = [render_registry(ctx, r) for r in ctx.inst.store.registries.values()]
    if name := ctx.query.get("name"):
        rows = [r for r in rows if name in r["name"]]
    # src/pkg/reg/dao/model.go Registry columns (status is column health)
    q, sort = ctx.query.get("q"), ctx.query.get("sort")
    return paged(ctx, query_rows(rows, q, sort, REGISTRY_FIELDS, REGISTRY_SHOWN, [("id", False)]))


def _check_registry_body(ctx: Ctx, body: dict[str, Any], current: Registry | None = None) -> None:
    name = body.get("name", current.name if current else None)
    if not name or not isinstance(name, str):
        raise bad_request("registry name is required")
    if any(r.name == name and r is not current for r in ctx.inst.store.registries.values()):
        raise conflict(f"registry {name} already exists")
    if not current and body.get("type") not in ADAPTERS:
        raise bad_request(f"invalid registry type: {body.get('type')}")
    url = body.get("url", current.url if current else "")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise bad_request(f"invalid registry url: {url}")


@routes.post("/registries")
def create_registry(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "create")
    body = ctx.body_obj()
    _check_registry_body(ctx, body)
    store = ctx.inst.store
    reg = Registry(
        store.ids.next("registry"),
        body["name"],
        body["url"].rstrip("/"),
        body["type"],
        dict(body.get("credential") or {}),
        bool(body.get("insecure")),
        str(body.get("description") or ""),
        ctx.now,
        ctx.now,
        str(body.get("ca_certificate") or ""),
    )
    reg.healthy = reg.url not in ctx.inst.unreachable_urls
    store.registries[reg.id] = reg
    return created(ctx, reg.id)


@routes.get("/registries/{id}")
def get_registry(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "read")
    return ok(render_registry(ctx, _registry(ctx, ctx.params["id"])))


@routes.put("/registries/{id}")
def update_registry(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "update")
    reg = _registry(ctx, ctx.params["id"])
    body = ctx.body_obj()
    _check_registry_body(ctx, body, reg)
    reg.name = body.get("name", reg.name)
    reg.url = str(body.get("url", reg.url)).rstrip("/")
    reg.description = body.get("description", reg.description)
    reg.insecure = bool(body.get("insecure", reg.insecure))
    reg.ca_certificate = body.get("ca_certificate", reg.ca_certificate)
    for src, dst in (("credential_type", "type"), ("access_key", "access_key"), ("access_secret", "access_secret")):
        if body.get(src) is not None:
            reg.credential[dst] = body[src]
    reg.healthy = reg.url not in ctx.inst.unreachable_urls
    reg.update_time = ctx.now
    return empty()


@routes.delete("/registries/{id}")
def delete_registry(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "delete")
    reg = _registry(ctx, ctx.params["id"])
    for p in ctx.inst.store.policies.values():
        if reg.id in (p.get("_src"), p.get("_dest")):
            raise HarborError(412, f"the registry {reg.id} is referenced by policies, cannot delete it")
    del ctx.inst.store.registries[reg.id]
    return empty()


@routes.get("/registries/{id}/info")
def registry_info(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "read")
    reg = _registry(ctx, ctx.params["id"])
    info = {
        "type": reg.type,
        "description": f"{reg.type} adapter",
        "supported_resource_filters": [
            {"type": "name", "style": "input"},
            {"type": "tag", "style": "input"},
            {"type": "label", "style": "input"},
        ],
        "supported_triggers": ["manual", "scheduled", "event_based"],
        "supported_copy_by_chunk": reg.type == "harbor",
    }
    return ok(spec.shape(ctx.inst.spec_name, "RegistryInfo", info))


@routes.post("/registries/ping")
def ping_registry(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "registry", "read")
    body = ctx.body_obj()
    # handler/registry.go PingRegistry: a live check (a fleet peer that is down answers nothing). With a
    # credential the adapter pings with it (src/pkg/reg/adapter/native/adapter.go@v2.3.0..@v2.15.0 HealthCheck:
    # Ping through the token authorizer; an error, e.g. a 401 for a rotated secret, is "unhealthy").
    if body.get("id"):
        if resolve(ctx.inst, _registry(ctx, body["id"])).api_down:
            raise bad_request("the registry is unhealthy")
        return empty()
    else:
        url = str(body.get("url") or "")
        if not url:
            raise bad_request("url is required")
    healthy = not resolve_url(ctx.inst, url).api_down
    if not healthy:
        raise bad_request("the registry is unhealthy")
    return empty()


@routes.get("/replication/adapters")
def adapters(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-adapter", "list")
    return ok(list(ADAPTERS))


# --- policies --------------------------------------------------------------------------------------
def render_policy(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    store = ctx.inst.store
    out = {k: v for k, v in p.items() if not k.startswith("_")}
    for side in ("src", "dest"):
        rid = p.get(f"_{side}")
        reg = store.registries.get(rid) if rid else None
        out[f"{side}_registry"] = render_registry(ctx, reg) if reg else dict(LOCAL_REGISTRY)
    out["creation_time"], out["update_time"] = iso(p["_created"]), iso(p["_updated"])
    return spec.shape(ctx.inst.spec_name, "ReplicationPolicy", out)


def _policy_fields(ctx: Ctx, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("policy name is required")
    if any(p["name"] == name and p is not current for p in ctx.inst.store.policies.values()):
        raise conflict(f"policy {name} already exists")
    src = (body.get("src_registry") or {}).get("id") or None
    dest = (body.get("dest_registry") or {}).get("id") or None
    if bool(src) == bool(dest):
        raise bad_request("either src_registry or dest_registry must be a remote registry (and not both)")
    for rid in (src, dest):
        if rid:
            _registry(ctx, rid)
    trigger = body.get("trigger") or {"type": "manual"}
    if trigger.get("type") not in ("manual", "event_based", "scheduled"):
        raise bad_request(f"invalid trigger type: {trigger.get('type')}")
    if trigger["type"] == "scheduled":
        check_policy_cron(ctx.inst, str((trigger.get("trigger_settings") or {}).get("cron") or ""))
    deletion = bool(body.get("replicate_deletion", body.get("deletion", False)))
    return {
        "name": name,
        "description": str(body.get("description") or ""),
        "_src": src,
        "_dest": dest,
        "dest_namespace": str(body.get("dest_namespace") or ""),
        "dest_namespace_replace_count": int(body.get("dest_namespace_replace_count", -1)),
        "trigger": {
            "type": trigger["type"],
            "trigger_settings": {"cron": str((trigger.get("trigger_settings") or {}).get("cron") or "")},
        },
        "filters": list(body.get("filters") or []),
        "replicate_deletion": deletion,
        "deletion": deletion,
        "override": bool(body.get("override", True)),
        "enabled": bool(body.get("enabled", True)),
        "speed": int(body.get("speed", -1)),
        "copy_by_chunk": bool(body.get("copy_by_chunk", False)),
        "single_active_replication": bool(body.get("single_active_replication", False)),
    }


def _policy(ctx: Ctx, raw: Any) -> dict[str, Any]:
    return lookup(ctx.inst.store.policies, raw, "policy")


@routes.get("/replication/policies")
def list_policies(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-policy", "list")
    keys = ("id", "name", "enabled", "creation_time", "update_time")
    rows = [render_policy(ctx, p) for p in ctx.inst.store.policies.values()]
    if name := ctx.query.get("name"):
        rows = [r for r in rows if name in r["name"]]
    rows = filter_rows(rows, parse_q(ctx.query.get("q")), keys)
    return paged(ctx, sort_rows(rows, parse_sort(ctx.query.get("sort"), keys) or [("id", False)]))


@routes.post("/replication/policies")
def create_policy(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-policy", "create")
    fields = _policy_fields(ctx, ctx.body_obj(), None)
    pid = ctx.inst.store.ids.next("policy")
    ctx.inst.store.policies[pid] = {"id": pid, **fields, "_created": ctx.now, "_updated": ctx.now}
    mark_busy(ctx.inst)
    return created(ctx, pid)


@routes.get("/replication/policies/{id}")
def get_policy(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-policy", "read")
    return ok(render_policy(ctx, _policy(ctx, ctx.params["id"])))


@routes.put("/replication/policies/{id}")
def update_policy(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-policy", "update")
    p = _policy(ctx, ctx.params["id"])
    p.update(_policy_fields(ctx, ctx.body_obj(), p), _updated=ctx.now, _sched_from=ctx.now)
    mark_busy(ctx.inst)
    return empty()


@routes.delete("/replication/policies/{id}")
def delete_policy(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication-policy", "delete")
    p = _policy(ctx, ctx.params["id"])
    if any(
        ex.policy_id == p["id"] and ex.render(ctx.now)["status"] == "InProgress" for ex in ctx.inst.jobs.repl.values()
    ):
        raise HarborError(412, f"the policy {p['id']} has running executions, can not be deleted")
    del ctx.inst.store.policies[p["id"]]
    return empty()


# --- executions --------------------------------------------------------------------------------------
def _execution(ctx: Ctx) -> ReplExecution:
    return lookup(ctx.inst.jobs.repl, ctx.params["id"], "execution")


@routes.get("/replication/executions")
def list_executions(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "list")
    rows = [ex.render(ctx.now) for ex in ctx.inst.jobs.repl.values()]
    for key in ("policy_id", "status", "trigger"):
        if want := ctx.query.get(key):
            rows = [r for r in rows if str(r[key]) == want]
    # sort keys are task Execution columns (vendor_id, not policy_id); q is not read (handler BuildQuery(nil))
    shown = {"id": "id", "vendor_id": "policy_id", "status": "status", "trigger": "trigger",
             "start_time": "start_time", "end_time": "end_time"}  # fmt: skip
    return paged(ctx, query_rows(rows, None, ctx.query.get("sort"), EXECUTION_FIELDS, shown, [("id", True)]))


@routes.post("/replication/executions")
def start_execution(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "create")
    p = _policy(ctx, ctx.body_obj().get("policy_id"))
    if not p["enabled"]:
        raise bad_request(f"the policy {p['id']} is disabled")
    ex = ctx.inst.jobs.start_replication(p)
    return created(ctx, ex.id)


@routes.get("/replication/executions/{id}")
def get_execution(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "read")
    return ok(_execution(ctx).render(ctx.now))


@routes.put("/replication/executions/{id}")
def stop_execution(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "stop")
    ex = _execution(ctx)
    if ex.stopped_at is None and ex.render(ctx.now)["status"] == "InProgress":
        ex.stopped_at = ctx.now
    return empty()


@routes.get("/replication/executions/{id}/tasks")
def list_tasks(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "read")
    ex = _execution(ctx)
    rows = []
    for t in ex.tasks:
        end, start = ex.task_end(t, ctx.now), ex.task_start(t)
        # handler/replication.go convertTask: start/end always set (Go's zero time until they happen);
        # statuses Pending and Stopped pass through, Scheduled/Running answer InProgress.
        row = {
            "id": t.id,
            "execution_id": ex.id,
            "status": ex.task_status(t, ctx.now),
            "job_id": f"job-{t.id:08x}",
            "operation": t.operation,
            "resource_type": t.resource_type,
            "src_resource": t.src_resource,
            "dst_resource": t.dst_resource,
            "start_time": iso(start) if start is not None else ZERO_TIME,
            "end_time": iso(end) if end is not None else ZERO_TIME,
        }
        rows.append(row)
    for key in ("status", "resource_type"):
        if want := ctx.query.get(key):
            rows = [r for r in rows if r[key] == want]
    return paged(ctx, rows)


@routes.get("/replication/executions/{id}/tasks/{task_id}/log")
def task_log(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "replication", "read")
    ex = _execution(ctx)
    task = next((t for t in ex.tasks if str(t.id) == ctx.params["task_id"]), None)
    if task is None:
        raise not_found(f"task {ctx.params['task_id']} not found")
    return text(ctx.inst.jobs.task_log(ex, task))
