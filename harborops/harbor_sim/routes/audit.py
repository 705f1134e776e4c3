"""/audit-logs, /auditlog-exts (2.13+), /auditlog-exts/events and the per-project variants.

src/server/v2.0/handler/auditlog.go (ListAuditLogs, ListAuditLogExts, ListAuditLogEventTypes) and
src/server/v2.0/handler/project.go (GetLogs, GetLogExts).
"""

from __future__ import annotations

from harborops.harbor_sim.audit import POSITIONAL, AuditTable, ext_event_types, render
from harborops.harbor_sim.auth import (
    can_project,
    project_roles,
    require_auth,
    require_project,
    require_system,
    robot_allows,
)
from harborops.harbor_sim.http import HarborError, SimResponse
from harborops.harbor_sim.query import Cond, model_conds, model_sort
from harborops.harbor_sim.routes import Ctx, RouteSet, listing, ok
from harborops.harbor_sim.state import Project

routes = RouteSet()


def _query(ctx: Ctx, table: AuditTable, projects: list[str] | None) -> SimResponse:
    # Keys Harbor's ORM does not know are ignored (src/lib/orm/query.go setFilters / setSorts).
    # A handler that scopes by project overwrites query.Keywords["ProjectID"] (auditlog.go, project.go).
    conds = model_conds(ctx.query.get("q"), table.fields, replaced=("ProjectID",) if projects is not None else ())
    if projects is not None:
        conds.append(Cond("_project", "or", tuple(projects)))
    order = model_sort(ctx.query.get("sort"), table.fields)
    if order and order[0][0] not in POSITIONAL and len(order) > 1:
        order = order[:1]
    page = ctx.page()
    rows, total = table.query(conds, order, page.offset, page.size)
    return listing(ctx, [render(r, table.ext) for r in rows], total, page)


def _scope(ctx: Ctx) -> list[str] | None:
    """None = everything (system access to audit-log list); else the projects whose logs the caller reads.

    auditlog.go: without RequireSystemAccess(list, audit-log) the rows are limited to projects the
    caller is a *member* of (directly or by group) with list-log permission - and only a local user's
    security context gets that list: a robot without the system permission sees nothing.
    """
    who = ctx.who
    require_auth(who)
    if who.sysadmin or (who.robot is not None and robot_allows(who.robot, "audit-log", "list", None)):
        return None
    if who.user is None:
        return []
    inst = ctx.inst
    return [
        p.name
        for p in inst.store.projects.values()
        if project_roles(inst, who, p) and can_project(inst, who, p, "log", "list")
    ]


@routes.get("/audit-logs")
def audit_logs(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_legacy, _scope(ctx))


@routes.get("/auditlog-exts", feature="audit_log_ext")
def audit_log_exts(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_ext, _scope(ctx))


@routes.get("/auditlog-exts/events", feature="audit_log_ext")
def event_types(ctx: Ctx) -> SimResponse:
    """auditlog.go ListAuditLogEventTypes: RequireSystemAccess(list, audit-log), then model.EventTypes."""
    require_system(ctx.who, "audit-log", "list")
    return ok([{"event_type": e} for e in ext_event_types(ctx.inst.behaviour)])


def _log_project(ctx: Ctx) -> Project:
    """project.go GetLogs / GetLogExts: RequireProjectAccess(list, log) first, then GetByName - no
    separate project-read check (a robot with only log:list may read the project's logs)."""
    name = ctx.params["project_name"]
    proj = ctx.inst.store.project_by_name(name)
    if proj is None:
        if not ctx.who.sysadmin:  # the RBAC evaluator finds no project and grants nothing
            require_auth(ctx.who)
            raise HarborError(403, "FORBIDDEN")
        raise HarborError(404, f"project {name} not found", "NOT_FOUND")
    require_project(ctx.inst, ctx.who, proj, "log", "list")
    return proj


@routes.get("/projects/{project_name}/logs")
def project_logs(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_legacy, [_log_project(ctx).name])


@routes.get("/projects/{project_name}/auditlog-exts", feature="audit_log_ext")
def project_log_exts(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_ext, [_log_project(ctx).name])
