"""/audit-logs, /auditlog-exts (2.13+), /auditlog-exts/events and the per-project variants."""

from __future__ import annotations

from harborops.harbor_sim.audit import POSITIONAL, AuditTable, render
from harborops.harbor_sim.auth import can_project, require_auth, require_project, robot_allows
from harborops.harbor_sim.http import SimResponse
from harborops.harbor_sim.query import Cond, parse_q, parse_sort
from harborops.harbor_sim.routes import Ctx, RouteSet, listing, ok
from harborops.harbor_sim.routes.projects import get_project

routes = RouteSet()
EVENT_TYPES = (
    "create_artifact",
    "delete_artifact",
    "pull_artifact",
    "create_project",
    "delete_project",
    "delete_repository",
    "login_user",
    "logout_user",
    "create_user",
    "delete_user",
    "update_user",
    "create_robot",
    "delete_robot",
    "update_configuration",
    "create_member",
    "delete_member",
    "update_member",
    "update_project",
    "other",
)


def _query(ctx: Ctx, table: AuditTable, projects: list[str] | None) -> SimResponse:
    keys = table.filter_keys
    conds = [c for c in parse_q(ctx.query.get("q")) if c.key in keys]
    if projects is not None:
        conds.append(Cond("_project", "or", tuple(projects)))
    order = parse_sort(ctx.query.get("sort"), keys)
    if order and order[0][0] not in POSITIONAL and len(order) > 1:
        order = order[:1]
    page = ctx.page()
    rows, total = table.query(conds, order, page.offset, page.size)
    return listing(ctx, [render(r, table.ext) for r in rows], total, page)


def _scope(ctx: Ctx) -> list[str] | None:
    """None = everything (sysadmin / robot with audit-log:list); else project names the caller may read."""
    who = ctx.who
    require_auth(who)
    if who.sysadmin or (who.robot is not None and robot_allows(who.robot, "audit-log", "list", None)):
        return None
    return [p.name for p in ctx.inst.store.projects.values() if can_project(ctx.inst, who, p, "log", "list")]


@routes.get("/audit-logs")
def audit_logs(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_legacy, _scope(ctx))


@routes.get("/auditlog-exts", feature="audit_log_ext")
def audit_log_exts(ctx: Ctx) -> SimResponse:
    return _query(ctx, ctx.inst.audit_ext, _scope(ctx))


@routes.get("/auditlog-exts/events", feature="audit_log_ext")
def event_types(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    return ok([{"event_type": e} for e in EVENT_TYPES])


@routes.get("/projects/{project_name}/logs")
def project_logs(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, key="project_name")
    require_project(ctx.inst, ctx.who, proj, "log", "list")
    return _query(ctx, ctx.inst.audit_legacy, [proj.name])


@routes.get("/projects/{project_name}/auditlog-exts", feature="audit_log_ext")
def project_log_exts(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, key="project_name")
    require_project(ctx.inst, ctx.who, proj, "log", "list")
    return _query(ctx, ctx.inst.audit_ext, [proj.name])
