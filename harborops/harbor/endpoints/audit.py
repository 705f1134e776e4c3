"""Audit logs (``/audit-logs`` and, from v2.13, ``/auditlog-exts``) and audit-log purge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from harborops.harbor import types as t
from harborops.harbor.ops import (
    PAGE_SIZE,
    EndpointBase,
    Op,
    Req,
    caps_op,
    endpoint,
    location_id,
    paged_models,
    parse_model,
    q_params,
    seg,
)
from harborops.harbor.query import Range, build_q, build_sort

AuditSource = Literal["audit-logs", "auditlog-exts"]
SCHEDULE_TYPES = frozenset({"Hourly", "Daily", "Weekly", "Custom", "Manual", "None"})
DEFAULT_PURGE_EVENTS = ("create_artifact", "delete_artifact", "pull_artifact")
# What a purge can name. v2.13+: src/pkg/auditext/model/model.go EventTypes (v2.13.0 ... v2.15.2) plus "other"
# (= EventTypes[3:]); Harbor drops anything else silently and compares the tokens as given with
# lower(operation || '_' || resource_type) (src/pkg/auditext/dao/dao.go permitEventTypes), so they are sent
# lower-case. <= v2.12: only operations (src/pkg/audit/dao/dao.go allowedMaps) - per operation, not per
# resource type: "create" also purges create_project, create_tag, ... rows.
PURGE_EVENT_TYPES = frozenset(
    {"create_artifact", "delete_artifact", "pull_artifact", "create_project", "delete_project",
     "delete_repository", "login_user", "logout_user", "create_user", "delete_user", "update_user",
     "create_robot", "delete_robot", "update_configuration", "other"}
)  # fmt: skip
PURGE_OPERATIONS = ("create", "delete", "pull")


def check_cron(schedule_type: str, cron: str | None) -> None:
    """Harbor's cron: 6 fields, seconds first and ``0``; required for Hourly/Daily/Weekly/Custom."""
    if schedule_type not in SCHEDULE_TYPES:
        raise ValueError(f"schedule type must be one of {sorted(SCHEDULE_TYPES)} ('Schedule' is a no-op)")
    if schedule_type in ("Manual", "None"):
        return
    fields = (cron or "").split()
    if len(fields) != 6 or fields[0] != "0":
        raise ValueError(f"cron {cron!r}: need 6 fields 'sec min hour dom mon dow' with sec = 0")


def schedule_body(schedule_type: str, cron: str | None, parameters: dict[str, object]) -> dict[str, object]:
    check_cron(schedule_type, cron)
    sched: dict[str, object] = {"type": schedule_type}
    if cron is not None or schedule_type == "None":
        sched["cron"] = cron or ""
    return {"schedule": sched, "parameters": parameters}


class AuditEndpoints(EndpointBase):
    @endpoint
    def audit_log_sources(self) -> Op[tuple[AuditSource, ...]]:
        """Sources of this instance's audit events for list_audit_logs: ext (v2.13+) first, then legacy."""
        caps = yield from caps_op(self)
        return ("auditlog-exts", "audit-logs") if caps.audit_log_ext else ("audit-logs",)

    @endpoint
    def list_audit_logs(
        self,
        source: AuditSource = "audit-logs",
        *,
        after_id: int = 0,
        max_items: int = 1000,
        project: str | None = None,
    ) -> Op[list[t.AuditLog]]:
        """Events with id > after_id in ascending id order (the ingest cursor).

        Keyset pagination, not page numbers: ``q=id=[N~]&sort=id&page=1&page_size=100`` with N
        advanced after each page, so rows arriving meanwhile cannot shift pages. Stops after
        ``max_items`` so the caller can commit its cursor per batch.
        """
        caps = yield from caps_op(self)
        if source == "auditlog-exts":
            caps.require("audit_log_ext")
        elif source != "audit-logs":
            raise ValueError(f"unknown audit source {source!r}")
        resource = "audit_log_ext" if source == "auditlog-exts" else "audit_log"
        if project is None:
            path = f"/{source}"
        else:
            path = f"/projects/{seg(project)}/{'auditlog-exts' if source == 'auditlog-exts' else 'logs'}"
        out: list[t.AuditLog] = []
        cursor = after_id
        while len(out) < max_items:
            q = build_q(resource, {"id": Range(cursor + 1, None)})
            params = [*q_params(q, build_sort(resource, "id")), ("page", "1"), ("page_size", str(PAGE_SIZE))]
            resp = yield Req("GET", path, params)
            data = resp.json() or []
            batch = [parse_model(t.AuditLog, row, resp) for row in data]
            # Defensive: an instance that ignored q/sort would loop forever or skip rows.
            batch = sorted((b for b in batch if b.id > cursor), key=lambda b: b.id)
            out.extend(batch)
            if len(data) < PAGE_SIZE or not batch:
                break
            cursor = batch[-1].id
        return out[:max_items]

    @endpoint
    def list_audit_event_types(self) -> Op[list[str]]:
        """GET /auditlog-exts/events (v2.13+)."""
        caps = yield from caps_op(self)
        caps.require("audit_log_ext")
        resp = yield Req("GET", "/auditlog-exts/events")
        return [str(x.get("event_type", "")) for x in (resp.json() or []) if isinstance(x, dict)]

    # -- purge (v2.6+) -------------------------------------------------------------------------
    def _purge_params(self, retention_hours: int, event_types: Sequence[str], dry_run: bool) -> Op[dict[str, object]]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        if not 0 < retention_hours <= 240000:
            raise ValueError("audit_retention_hour must be 1..240000")
        key = caps.purge_event_key or "include_event_types"
        wanted = [ev.strip().lower() for ev in event_types]
        if caps.purge_include_event_types:
            unknown = [ev for ev in wanted if ev not in PURGE_EVENT_TYPES]
            if unknown:
                known = ", ".join(sorted(PURGE_EVENT_TYPES))
                raise ValueError(f"Harbor would ignore purge event types {unknown} (known: {known})")
            value = ",".join(wanted)
        else:
            # <= v2.12 speaks operations (create,delete,pull), not <operation>_<resource> event types.
            ops: list[str] = []
            for ev in wanted:
                op = ev.split("_", 1)[0]
                if op not in PURGE_OPERATIONS:
                    raise ValueError(f"before Harbor 2.13 a purge can only name {PURGE_OPERATIONS}, not {ev!r}")
                if op not in ops:
                    ops.append(op)
            value = ",".join(ops)
        return {"audit_retention_hour": retention_hours, key: value, "dry_run": dry_run}

    @endpoint
    def get_purge_schedule(self) -> Op[t.ExecHistory | None]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        resp = yield Req("GET", "/system/purgeaudit/schedule")
        data = resp.json()
        return parse_model(t.ExecHistory, data, resp) if data else None

    @endpoint
    def set_purge_schedule(
        self,
        schedule_type: str,
        cron: str | None = None,
        *,
        retention_hours: int,
        event_types: Sequence[str] = DEFAULT_PURGE_EVENTS,
        dry_run: bool = False,
    ) -> Op[None]:
        """Create (POST) or replace (PUT) the purge schedule; ``None`` type removes it."""
        params = yield from self._purge_params(retention_hours, event_types, dry_run)
        body = schedule_body(schedule_type, cron, params)
        current = yield Req("GET", "/system/purgeaudit/schedule")
        existing = current.json()
        method = "PUT" if existing and (existing.get("schedule") or {}).get("type") not in (None, "None") else "POST"
        yield Req(method, "/system/purgeaudit/schedule", json=body)
        return None

    @endpoint
    def run_purge_audit(
        self,
        *,
        retention_hours: int,
        event_types: Sequence[str] = DEFAULT_PURGE_EVENTS,
        dry_run: bool = False,
    ) -> Op[int]:
        """Purge now (schedule type Manual) → purge execution id."""
        params = yield from self._purge_params(retention_hours, event_types, dry_run)
        resp = yield Req("POST", "/system/purgeaudit/schedule", json=schedule_body("Manual", None, params))
        return location_id(resp)

    @endpoint
    def list_purge_history(self, *, limit: int | None = None) -> Op[list[t.ExecHistory]]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        req = Req("GET", "/system/purgeaudit", q_params(None, build_sort("purge", "-start_time")))
        return (yield from paged_models(t.ExecHistory, req, limit=limit))

    @endpoint
    def get_purge(self, purge_id: int) -> Op[t.ExecHistory]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        resp = yield Req("GET", f"/system/purgeaudit/{int(purge_id)}")
        return parse_model(t.ExecHistory, resp.json(), resp)

    @endpoint
    def stop_purge(self, purge_id: int) -> Op[None]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        yield Req("PUT", f"/system/purgeaudit/{int(purge_id)}")
        return None

    @endpoint
    def purge_log(self, purge_id: int) -> Op[str]:
        caps = yield from caps_op(self)
        caps.require("purge_audit")
        resp = yield Req("GET", f"/system/purgeaudit/{int(purge_id)}/log")
        return resp.text
