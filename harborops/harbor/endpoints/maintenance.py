"""Garbage collection: schedule, run now, history, log, stop."""

from __future__ import annotations

from harborops.harbor import types as t
from harborops.harbor.capabilities import Capabilities
from harborops.harbor.endpoints.audit import schedule_body
from harborops.harbor.ops import (
    EndpointBase,
    Op,
    Req,
    caps_op,
    endpoint,
    location_id,
    paged_models,
    parse_model,
    q_params,
)
from harborops.harbor.query import build_sort


def gc_parameters(
    caps: Capabilities, *, delete_untagged: bool, dry_run: bool, workers: int | None, delete_tag: bool | None
) -> dict[str, object]:
    """GC ``parameters`` for this version; NotSupported for workers < v2.9, delete_tag < v2.15."""
    params: dict[str, object] = {"delete_untagged": delete_untagged, "dry_run": dry_run}
    if workers is not None:
        caps.require("gc_workers", "GC parameter workers")
        most = 10 if caps.gc_workers_max_10 else 5
        if not 1 <= workers <= most:
            raise ValueError(f"GC workers must be 1..{most} on Harbor {caps.version}")
        params["workers"] = workers
    if delete_tag is not None:
        caps.require("gc_delete_tag", "GC parameter delete_tag")
        params["delete_tag"] = delete_tag
    return params


class MaintenanceEndpoints(EndpointBase):
    @endpoint
    def get_gc_schedule(self) -> Op[t.ExecHistory | None]:
        """GET /system/gc/schedule: a GCHistory (not a Schedule); empty body → None."""
        resp = yield Req("GET", "/system/gc/schedule")
        data = resp.json()
        return parse_model(t.ExecHistory, data, resp) if data else None

    @endpoint
    def set_gc_schedule(
        self,
        schedule_type: str,
        cron: str | None = None,
        *,
        delete_untagged: bool = False,
        dry_run: bool = False,
        workers: int | None = None,
        delete_tag: bool | None = None,
    ) -> Op[None]:
        """Set (create or replace) the GC schedule; type ``None`` removes it.

        One POST does both: Harbor's POST and PUT run the same kick, which deletes any existing
        schedule before creating the new one (handler/gc.go updateSchedule, v2.3-v2.15).
        """
        if schedule_type == "Manual":
            raise ValueError("use run_gc() for a manual GC")
        caps = yield from caps_op(self)
        params = gc_parameters(
            caps, delete_untagged=delete_untagged, dry_run=dry_run, workers=workers, delete_tag=delete_tag
        )
        body = schedule_body(schedule_type, cron, params)
        yield Req("POST", "/system/gc/schedule", json=body)
        return None

    @endpoint
    def run_gc(
        self,
        *,
        delete_untagged: bool = False,
        dry_run: bool = False,
        workers: int | None = None,
        delete_tag: bool | None = None,
    ) -> Op[int]:
        """Start a GC now (POST schedule type Manual) → GC id from Location."""
        caps = yield from caps_op(self)
        params = gc_parameters(
            caps, delete_untagged=delete_untagged, dry_run=dry_run, workers=workers, delete_tag=delete_tag
        )
        resp = yield Req("POST", "/system/gc/schedule", json=schedule_body("Manual", None, params))
        return location_id(resp)

    @endpoint
    def list_gc_history(self, *, limit: int | None = None) -> Op[list[t.ExecHistory]]:
        """Newest first. ``job_parameters`` is parsed and stripped of redis_url_reg."""
        req = Req("GET", "/system/gc", q_params(None, build_sort("gc", "-start_time")))
        return (yield from paged_models(t.ExecHistory, req, limit=limit))

    @endpoint
    def get_gc(self, gc_id: int) -> Op[t.ExecHistory]:
        resp = yield Req("GET", f"/system/gc/{int(gc_id)}")
        return parse_model(t.ExecHistory, resp.json(), resp)

    @endpoint
    def gc_log(self, gc_id: int) -> Op[str]:
        """text/plain log; NotFound (404) while no task/log exists."""
        resp = yield Req("GET", f"/system/gc/{int(gc_id)}/log")
        return resp.text

    @endpoint
    def stop_gc(self, gc_id: int) -> Op[None]:
        """PUT /system/gc/{id} (v2.6+)."""
        caps = yield from caps_op(self)
        caps.require("gc_stop")
        yield Req("PUT", f"/system/gc/{int(gc_id)}")
        return None
