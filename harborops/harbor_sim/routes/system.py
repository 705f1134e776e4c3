"""/health, /ping, /systeminfo*, /statistics, /configurations, /jobservice/*, /schedules, /permissions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from harborops.harbor_sim import spec
from harborops.harbor_sim.audit import config_description
from harborops.harbor_sim.auth import require_auth, require_sysadmin, require_system
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, lookup, not_found
from harborops.harbor_sim.routes import Ctx, RouteSet, empty, ok, paged, text
from harborops.harbor_sim.routes.projects import visible_projects

routes = RouteSet()

BASE_COMPONENTS = ("core", "database", "jobservice", "portal", "redis", "registry", "registryctl")
SECRETS = frozenset({"ldap_search_password", "oidc_client_secret", "uaa_client_secret", "email_password"})


@routes.get("/ping")
def ping(ctx: Ctx) -> SimResponse:
    return text("Pong")


@routes.get("/health")
def health(ctx: Ctx) -> SimResponse:
    inst, beh = ctx.inst, ctx.inst.behaviour
    names = list(BASE_COMPONENTS)
    if inst.components["trivy"]:
        names.append("trivy")
    if inst.components["chartmuseum"] and beh.health_chartmuseum:
        names.append("chartmuseum")
    if inst.components["notary"] and beh.health_notary:
        names.append("notary")
    comps: list[dict[str, Any]] = []
    for name in sorted(names):
        if name in inst.unhealthy:
            comps.append({"name": name, "status": "unhealthy", "error": inst.unhealthy[name]})
        else:
            comps.append({"name": name, "status": "healthy"})
    overall = "unhealthy" if any(c["status"] != "healthy" for c in comps) else "healthy"
    return ok({"status": overall, "components": comps})


@routes.get("/systeminfo")
def systeminfo(ctx: Ctx) -> SimResponse:
    inst = ctx.inst
    cfg = inst.config
    info: dict[str, Any] = {
        "auth_mode": cfg["auth_mode"],
        "primary_auth_mode": cfg["primary_auth_mode"],
        "self_registration": cfg["self_registration"],
        "banner_message": cfg["banner_message"],
    }
    if cfg["auth_mode"] == "oidc_auth":
        info["oidc_provider_name"] = cfg["oidc_name"]
    if ctx.who.authenticated:
        https = inst.external_url.startswith("https://")
        info.update(
            {
                "harbor_version": inst.harbor_version,
                "external_url": inst.external_url,
                "registry_url": urlparse(inst.external_url).netloc,
                "has_ca_root": bool(inst.ca_cert) and https,
                "project_creation_restriction": cfg["project_creation_restriction"],
                "read_only": cfg["read_only"],
                "registry_storage_provider_name": "filesystem",
                "notification_enable": cfg["notification_enable"],
                "current_time": iso(ctx.now),
                "with_chartmuseum": inst.components["chartmuseum"],
                "with_notary": inst.components["notary"],
            }
        )
    return ok(spec.shape(inst.spec_name, "GeneralInfo", info))


@routes.get("/systeminfo/volumes")
def volumes(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "system-volumes", "read")
    store = ctx.inst.store
    used = store.live_bytes() + store.garbage_bytes
    total = ctx.inst.storage_total
    return ok({"storage": [{"total": total, "free": max(0, total - used)}]})


@routes.get("/systeminfo/getcert")
def getcert(ctx: Ctx) -> SimResponse:
    if not ctx.inst.ca_cert:
        raise not_found("certificate not found")
    return SimResponse(
        200,
        [("Content-Type", "application/octet-stream"), ("Content-Disposition", "attachment; filename=ca.crt")],
        ctx.inst.ca_cert,
    )


@routes.get("/statistics")
def statistics(ctx: Ctx) -> SimResponse:
    """handler/statistic.go GetStatistic (same from 2.3 to 2.15).

    Public counts cover every public project. A sysadmin gets the totals (private = total - public)
    and the blob table's size, which keeps deleted artifacts' blobs until GC removes them. Anyone
    else gets the private projects they are a member of -- only a local user: a robot's security
    context is not ``local.SecurityContext``, so a robot always sees 0 private projects.
    """
    require_auth(ctx.who)
    store = ctx.inst.store
    public = [p for p in store.projects.values() if p.public]
    public_repos = sum(len(store.project_repos(p.project_id)) for p in public)
    out: dict[str, Any] = {
        "private_project_count": 0,
        "private_repo_count": 0,
        "public_project_count": len(public),
        "public_repo_count": public_repos,
        # x-omitempty: false -- a non-admin gets the totals as 0
        "total_project_count": 0,
        "total_repo_count": 0,
        "total_storage_consumption": 0,
    }
    if ctx.who.sysadmin:
        out["total_project_count"] = len(store.projects)
        out["private_project_count"] = len(store.projects) - len(public)
        out["total_repo_count"] = len(store.repositories)
        out["private_repo_count"] = len(store.repositories) - public_repos
        out["total_storage_consumption"] = store.live_bytes() + store.garbage_bytes
    else:
        mine = [] if ctx.who.user is None else [p for p in visible_projects(ctx) if not p.public]
        out["private_project_count"] = len(mine)
        out["private_repo_count"] = sum(len(store.project_repos(p.project_id)) for p in mine)
    return ok(out)


# --- configurations --------------------------------------------------------------------------------
ITEM_TYPES = {"StringConfigItem": str, "BoolConfigItem": bool, "IntegerConfigItem": int}


def _read_only_for_all(inst: Any) -> bool:
    """controller/config readOnlyForAll: set when CONFIG_OVERWRITE_JSON configured the instance at start.

    ``inst.pinned_config`` holds the keys that env variable set; Harbor then makes *every* key
    read-only (there is no per-key pinning).
    """
    return bool(inst.pinned_config)


def _auth_mode_can_be_modified(inst: Any) -> bool:
    """controller/config authModeCanBeModified: no user besides admin (user_id 1; deleted users excluded)."""
    return not any(uid != 1 for uid in inst.store.users)


@routes.get("/configurations")
def get_config(ctx: Ctx) -> SimResponse:
    """controller/config ConvertForGet: every key ``editable: !readOnlyForAll``; auth_mode also needs no users."""
    require_sysadmin(ctx.who)
    inst = ctx.inst
    editable = not _read_only_for_all(inst)
    out: dict[str, Any] = {}
    for key, schema in spec.definition_keys(inst.spec_name, "ConfigurationsResponse").items():
        ref = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
        if key in SECRETS or ref not in ITEM_TYPES or key not in inst.config:
            continue
        out[key] = {"value": inst.config[key], "editable": editable}
    if "auth_mode" in out:
        out["auth_mode"]["editable"] = editable and _auth_mode_can_be_modified(inst)
    return ok(out)


@routes.put("/configurations")
def put_config(ctx: Ctx) -> SimResponse:
    """handler/config.go UpdateConfigurations: the body decodes into models.Configurations, so keys
    the version's swagger does not define are dropped without an error."""
    require_sysadmin(ctx.who)
    inst = ctx.inst
    body = ctx.body_obj()
    schema = spec.definition_keys(inst.spec_name, "Configurations")
    types = {"string": str, "boolean": bool, "integer": int}
    new = dict(inst.config)
    known = {k: v for k, v in body.items() if k in schema}
    for key, value in known.items():
        want = types.get(schema[key].get("type", "string"), str)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise bad_request(f"invalid value type for {key}: {value!r}")
    if _read_only_for_all(inst):
        raise HarborError(
            403, "current config is init by env variable: CONFIG_OVERWRITE_JSON, it cannot be updated"
        )
    new.update(known)
    if new["auth_mode"] != inst.config["auth_mode"] and not _auth_mode_can_be_modified(inst):
        raise bad_request("the auth mode cannot be modified as new users have been inserted into database")
    endpoint = str(new.get("audit_log_forward_endpoint") or "")
    if endpoint != inst.config.get("audit_log_forward_endpoint") and endpoint and ":" not in endpoint:
        raise bad_request("could not connect to the audit endpoint")
    if new.get("skip_audit_log_database") and not endpoint:
        raise bad_request("skip_audit_log_database requires audit_log_forward_endpoint to be set")
    # in place: the LDAP directory (and anything else attached) reads this live mapping
    inst.config.clear()
    inst.config.update(new)
    inst.record(
        ctx.who.name,
        "update",
        "configuration",
        "configuration",
        description=config_description(inst.behaviour, ctx.req.body.decode("utf-8", "replace")),
    )
    return empty()


# --- jobservice dashboard (2.7+) ---------------------------------------------------------------------
POOL_ID = "a6ce9f3d25cfd1f8e1f2a1c6"


@routes.get("/jobservice/pools")
def pools(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    return ok(
        [
            {
                "pid": 1,
                "worker_pool_id": POOL_ID,
                "start_at": iso(ctx.inst.jobs.started),
                "heartbeat_at": iso(ctx.now),
                "concurrency": 10,
                "host": "jobservice",
            }
        ]
    )


@routes.get("/jobservice/pools/{pool_id}/workers")
def workers(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    if ctx.params["pool_id"] not in ("all", POOL_ID):
        raise not_found(f"pool {ctx.params['pool_id']} not found")
    running = [j for j in ctx.inst.jobs.admin_jobs.values() if j.status(ctx.now) == "Running"]
    out = []
    for i in range(10):
        w: dict[str, Any] = {"id": f"{POOL_ID}-{i}", "pool_id": POOL_ID, "job_name": "", "job_id": "", "check_in": ""}
        if i < len(running):
            job = running[i]
            w.update(
                job_name=ctx.inst.jobs.queue_of(job),
                job_id=str(job.id),
                start_at=iso(job.start or job.created),
                checkin_at=iso(ctx.now),
            )
        out.append(w)
    return ok(out)


@routes.get("/jobservice/queues")
def queues(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    jobs = ctx.inst.jobs
    counts = jobs.queue_counts()
    return ok(
        [{"job_type": t, "count": counts[t], "latency": 0, "paused": t in jobs.paused} for t in jobs.queue_types()]
    )


@routes.put("/jobservice/queues/{job_type}")
def queue_action(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "stop")
    job_type = ctx.params["job_type"]
    action = str(ctx.body_obj().get("action", ""))
    if action not in ("stop", "pause", "resume"):
        raise HarborError(422, f"invalid action: {action}")
    if job_type != "all" and job_type not in ctx.inst.jobs.queue_types():
        raise not_found(f"job type {job_type} not found")
    ctx.inst.jobs.queue_action(job_type, action)
    return empty()


@routes.put("/jobservice/jobs/{job_id}")
def stop_job(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "stop")
    job = lookup(ctx.inst.jobs.admin_jobs, ctx.params["job_id"], "job")
    ctx.inst.jobs.stop_admin_job(job)
    return empty()


@routes.get("/jobservice/jobs/{job_id}/log")
def job_log(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    job = lookup(ctx.inst.jobs.admin_jobs, ctx.params["job_id"], "job")
    return text("\n".join(job.log) + "\n")


@routes.get("/schedules")
def schedules(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    vendor = {"gc": "GARBAGE_COLLECTION", "purge": "PURGE_AUDIT_LOG"}
    rows = [
        {"id": s["id"], "vendor_type": vendor[k], "vendor_id": 0, "cron": s["cron"], "update_time": iso(s["updated"])}
        for k, s in sorted(ctx.inst.jobs.schedules.items())
    ]
    return paged(ctx, rows)


@routes.get("/schedules/{job_type}/paused")
def schedule_paused(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "jobservice-monitor", "list")
    return ok({"paused": "SCHEDULER" in ctx.inst.jobs.paused})


SYSTEM_PERMISSIONS = [
    ("audit-log", "list"),
    ("preheat-instance", "create"),
    ("project", "list"),
    ("project", "create"),
    ("registry", "create"),
    ("registry", "read"),
    ("registry", "list"),
    ("replication", "create"),
    ("replication", "read"),
    ("replication", "list"),
    ("replication-policy", "create"),
    ("replication-policy", "list"),
    ("garbage-collection", "create"),
    ("garbage-collection", "read"),
    ("garbage-collection", "list"),
    ("garbage-collection", "stop"),
    ("purge-audit", "create"),
    ("purge-audit", "read"),
    ("purge-audit", "list"),
    ("purge-audit", "stop"),
    ("jobservice-monitor", "list"),
    ("jobservice-monitor", "stop"),
    ("system-volumes", "read"),
    ("quota", "read"),
    ("quota", "list"),
    ("scan-all", "create"),
]
PROJECT_PERMISSIONS = [
    ("repository", "pull"),
    ("repository", "push"),
    ("repository", "list"),
    ("repository", "delete"),
    ("artifact", "read"),
    ("artifact", "list"),
    ("artifact", "delete"),
    ("tag", "create"),
    ("tag", "delete"),
    ("log", "list"),
]


@routes.get("/permissions")
def permissions(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    return ok(
        {
            "system": [{"resource": r, "action": a} for r, a in SYSTEM_PERMISSIONS],
            "project": [{"resource": r, "action": a} for r, a in PROJECT_PERMISSIONS],
        }
    )
