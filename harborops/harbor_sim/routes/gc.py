"""/system/gc* (garbage collection) and /system/purgeaudit* (audit-log rotation, 2.6+)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from harborops.harbor_sim.auth import require_system
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, lookup
from harborops.harbor_sim.jobs import AdminJob, check_cron
from harborops.harbor_sim.query import EXECUTION_FIELDS, query_rows
from harborops.harbor_sim.routes import Ctx, RouteSet, empty, ok, paged, text

routes = RouteSet()
SCHEDULE_TYPES = ("Hourly", "Daily", "Weekly", "Custom", "Manual", "None", "Schedule")
PERIODIC = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}
KINDS = {"gc": ("garbage-collection", "/system/gc"), "purge": ("purge-audit", "/system/purgeaudit")}


def _gc_params(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    beh = ctx.inst.behaviour
    params: dict[str, Any] = {
        "delete_untagged": bool(raw.get("delete_untagged", False)),
        "dry_run": bool(raw.get("dry_run", False)),
    }
    if beh.gc_workers:
        workers = raw.get("workers", 1)
        if not isinstance(workers, int) or isinstance(workers, bool):
            raise bad_request("workers should be integer format")
        most = 10 if beh.gc_workers_max_10 else 5  # handler/gc.go validateWorkers: <= 5 until 2.12, <= 10 from 2.13
        if not 1 <= workers <= most:
            raise bad_request(
                f"Error: Invalid number of workers:{workers}. "
                f"Workers must be greater than 0 and less than or equal to {most}."
            )
        params["workers"] = workers
    if beh.gc_delete_tag:
        params["delete_tag"] = bool(raw.get("delete_tag", False))
    return params


def _purge_params(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
    """src/server/v2.0/handler/purge.go verifyCreateRequest / verifyUpdateRequest + kick (v2.6.0 ... v2.15.2):
    the keys must be present; audit_retention_hour must be an integer number <= 240000 (a non-number
    counts as 0, which the job skips); the event list is kept only when it is a string; nothing more
    is checked here (the job filters the list)."""
    key = ctx.inst.behaviour.purge_event_key or "include_operations"
    if not raw:
        raise bad_request("schedule parameter cann't be empty")
    if "audit_retention_hour" not in raw:
        raise bad_request("audit_retention_hour should provide")
    hours_raw = raw["audit_retention_hour"]
    hours = 0
    if isinstance(hours_raw, int | float) and not isinstance(hours_raw, bool):
        if isinstance(hours_raw, float) and not hours_raw.is_integer():
            raise bad_request("audit_retention_hour should be integer format")
        hours = int(hours_raw)
        if hours > 240000:
            raise bad_request("audit_retention_hour should be less than 240000")
    if key not in raw:
        raise bad_request(f"{key} should provide")
    kinds = raw[key] if isinstance(raw[key], str) else ""
    dry_run = raw.get("dry_run") if isinstance(raw.get("dry_run"), bool) else False
    return {"audit_retention_hour": hours, key: kinds, "dry_run": dry_run}


def _kick(ctx: Ctx, kind: str, *, create: bool) -> SimResponse:
    """Harbor's schedule kick: Manual runs now, None removes, periodic types replace the schedule."""
    resource, base = KINDS[kind]
    require_system(ctx.who, resource, "create" if create else "update")
    body = ctx.body_obj()
    sched = body.get("schedule") or {}
    stype = sched.get("type")
    if stype not in SCHEDULE_TYPES:
        raise HarborError(
            422, f"validation failure list:\nschedule.type in body should be one of {list(SCHEDULE_TYPES)}"
        )
    raw_params = body.get("parameters") or {}
    params = _gc_params(ctx, raw_params) if kind == "gc" else _purge_params(ctx, raw_params)
    jobs = ctx.inst.jobs
    location_id: int = 0
    if stype == "Manual":
        job = jobs.start_admin_job(kind, params)
        job.log.append(f"{iso(ctx.now)} [INFO] start to run {'gc' if kind == 'gc' else 'purge audit'} in job.")
        location_id = job.id
    elif stype == "None":
        jobs.schedules.pop(kind, None)
    elif stype != "Schedule":
        cron = str(sched.get("cron") or "")
        if not cron:
            raise bad_request("cron is required for a periodic schedule")
        check_cron(cron)
        # handler/gc.go updateSchedule: DeleteSchedule, then CreateSchedule -- POST and PUT alike
        # replace any existing schedule (a new schedule row: new id, new creation time).
        jobs.schedules[kind] = {
            "id": ctx.inst.store.ids.next("schedule"),
            "type": stype,
            "cron": cron,
            "params": params,
            "created": ctx.now,
            "updated": ctx.now,
        }
    if not create:
        return empty()
    return SimResponse(201, [("Location", f"{ctx.api_root}{base}/{location_id}")])


def _render_schedule(ctx: Ctx, kind: str) -> SimResponse:
    s = ctx.inst.jobs.schedules.get(kind)
    if s is None:
        return SimResponse(200, [("Content-Type", "application/json")])
    sched: dict[str, Any] = {"type": s["type"], "cron": s["cron"]}
    if ctx.inst.behaviour.gc_stop:  # next_scheduled_time arrived with 2.6 as well
        sched["next_scheduled_time"] = iso(ctx.now + timedelta(hours=1))
    return ok(
        {
            # model/gc.go GCSchedule.ToSwagger and purge.go GetPurgeSchedule: the schedule's id, no job name
            "id": s["id"],
            "job_name": "",
            "job_kind": s["cron"],
            "job_parameters": json.dumps(s["params"], sort_keys=True),
            "schedule": sched,
            "job_status": "",
            "deleted": False,
            "creation_time": iso(s["created"]),
            "update_time": iso(s["updated"]),
        }
    )


def _job(ctx: Ctx, kind: str, key: str) -> AdminJob:
    return lookup(ctx.inst.jobs.admin_jobs, ctx.params[key], f"{'GC' if kind == 'gc' else 'purge audit'} execution",
                  where=lambda job: job.kind == kind)


def _history(ctx: Ctx, kind: str) -> SimResponse:
    require_system(ctx.who, KINDS[kind][0], "list")
    rows = [ctx.inst.jobs.render_admin(j) for j in ctx.inst.jobs.admin_jobs.values() if j.kind == kind]
    # q / sort keys are task Execution columns (handler/gc.go GetGCHistory, purge.go ListPurgeHistory):
    # status, trigger, start_time (shown as creation_time) - not the JSON names; default start_time desc.
    shown = {"id": "id", "status": "job_status", "trigger": "job_kind", "start_time": "creation_time",
             "update_time": "update_time"}  # fmt: skip
    q, sort = ctx.query.get("q"), ctx.query.get("sort")
    return paged(ctx, query_rows(rows, q, sort, EXECUTION_FIELDS, shown, [("id", True)]))


# --- GC ------------------------------------------------------------------------------------------------
@routes.get("/system/gc")
def gc_history(ctx: Ctx) -> SimResponse:
    return _history(ctx, "gc")


@routes.get("/system/gc/{gc_id}")
def gc_get(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "garbage-collection", "read")
    return ok(ctx.inst.jobs.render_admin(_job(ctx, "gc", "gc_id")))


@routes.put("/system/gc/{gc_id}", feature="gc_stop")
def gc_stop(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "garbage-collection", "stop")
    ctx.inst.jobs.stop_admin_job(_job(ctx, "gc", "gc_id"))
    return empty()


@routes.get("/system/gc/{gc_id}/log")
def gc_log(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "garbage-collection", "read")
    job = _job(ctx, "gc", "gc_id")
    return text("\n".join(job.log) + "\n")


@routes.get("/system/gc/schedule")
def gc_schedule(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "garbage-collection", "read")
    return _render_schedule(ctx, "gc")


@routes.post("/system/gc/schedule")
def gc_schedule_post(ctx: Ctx) -> SimResponse:
    return _kick(ctx, "gc", create=True)


@routes.put("/system/gc/schedule")
def gc_schedule_put(ctx: Ctx) -> SimResponse:
    return _kick(ctx, "gc", create=False)


# --- purge audit ------------------------------------------------------------------------------------------
@routes.get("/system/purgeaudit", feature="purge_audit")
def purge_history(ctx: Ctx) -> SimResponse:
    return _history(ctx, "purge")


@routes.get("/system/purgeaudit/{purge_id}", feature="purge_audit")
def purge_get(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "purge-audit", "read")
    return ok(ctx.inst.jobs.render_admin(_job(ctx, "purge", "purge_id")))


@routes.put("/system/purgeaudit/{purge_id}", feature="purge_audit")
def purge_stop(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "purge-audit", "stop")
    ctx.inst.jobs.stop_admin_job(_job(ctx, "purge", "purge_id"))
    return empty()


@routes.get("/system/purgeaudit/{purge_id}/log", feature="purge_audit")
def purge_log(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "purge-audit", "read")
    return text("\n".join(_job(ctx, "purge", "purge_id").log) + "\n")


@routes.get("/system/purgeaudit/schedule", feature="purge_audit")
def purge_schedule(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "purge-audit", "read")
    return _render_schedule(ctx, "purge")


@routes.post("/system/purgeaudit/schedule", feature="purge_audit")
def purge_schedule_post(ctx: Ctx) -> SimResponse:
    return _kick(ctx, "purge", create=True)


@routes.put("/system/purgeaudit/schedule", feature="purge_audit")
def purge_schedule_put(ctx: Ctx) -> SimResponse:
    return _kick(ctx, "purge", create=False)
