"""One simulated Harbor: state + version profile + faults, answering `SimRequest`s synchronously."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from harborops.harbor_sim import spec
from harborops.harbor_sim.audit import AuditTable, recorded_kinds
from harborops.harbor_sim.auth import ANONYMOUS, HarborError, authenticate
from harborops.harbor_sim.behaviour import SimBehaviour, SimVersion, parse_sim_version
from harborops.harbor_sim.clock import Clock, ManualClock
from harborops.harbor_sim.faults import Faults
from harborops.harbor_sim.http import JSON_TYPE, Query, SimRequest, SimResponse, error_body, split_path
from harborops.harbor_sim.jobs import JobBoard
from harborops.harbor_sim.ldap import InMemoryLdap, LdapDirectory
from harborops.harbor_sim.routes import Ctx, Router
from harborops.harbor_sim.state import Store, User

VERSION_HEADER = "X-Harborops-Sim-Version"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECRET_CONFIG = frozenset({"ldap_search_password", "oidc_client_secret", "uaa_client_secret"})

DEFAULT_CONFIG: dict[str, Any] = {
    "auth_mode": "db_auth",
    "primary_auth_mode": False,
    "self_registration": False,
    "project_creation_restriction": "everyone",
    "token_expiration": 30,
    "session_timeout": 60,
    "robot_token_duration": 30,
    "robot_name_prefix": "robot$",
    "read_only": False,
    "notification_enable": True,
    "quota_per_project_enable": True,
    "storage_per_project": -1,
    "scanner_skip_update_pulltime": False,
    "banner_message": "",
    "ldap_url": "",
    "ldap_search_dn": "",
    "ldap_search_password": "",
    "ldap_base_dn": "",
    "ldap_filter": "",
    "ldap_uid": "cn",
    "ldap_scope": 2,
    "ldap_timeout": 5,
    "ldap_verify_cert": True,
    "ldap_group_base_dn": "",
    "ldap_group_search_filter": "",
    "ldap_group_attribute_name": "",
    "ldap_group_search_scope": 2,
    "ldap_group_admin_dn": "",
    "ldap_group_membership_attribute": "memberof",
    "ldap_group_attach_parallel": False,
    "uaa_client_id": "",
    "uaa_client_secret": "",
    "uaa_endpoint": "",
    "uaa_verify_cert": False,
    "http_authproxy_endpoint": "",
    "http_authproxy_tokenreview_endpoint": "",
    "http_authproxy_admin_groups": "",
    "http_authproxy_admin_usernames": "",
    "http_authproxy_verify_cert": True,
    "http_authproxy_skip_search": False,
    "http_authproxy_server_certificate": "",
    "oidc_name": "",
    "oidc_endpoint": "",
    "oidc_client_id": "",
    "oidc_client_secret": "",
    "oidc_groups_claim": "",
    "oidc_admin_group": "",
    "oidc_group_filter": "",
    "oidc_scope": "",
    "oidc_user_claim": "",
    "oidc_verify_cert": True,
    "oidc_auto_onboard": False,
    "oidc_extra_redirect_parms": "{}",
    "oidc_logout": False,
    "audit_log_forward_endpoint": "",
    "skip_audit_log_database": False,
    "disabled_audit_log_event_types": "",
    "email_from": "admin <sample_admin@mydomain.com>",
    "email_host": "smtp.mydomain.com",
    "email_identity": "",
    "email_insecure": False,
    "email_port": 25,
    "email_ssl": False,
    "email_username": "",
    "email_password": "",
}


class HarborInstance:
    """A stateful Harbor of one version. `handle()` is synchronous, thread-safe and fast."""

    def __init__(
        self,
        version: str | SimVersion = "2.13.0",
        *,
        name: str = "harbor",
        clock: Clock | None = None,
        admin_password: str = "Harbor12345",  # noqa: S107 - Harbor's documented default
        ldap: LdapDirectory | None = None,
        with_trivy: bool = True,
        with_chartmuseum: bool = False,
        with_notary: bool = False,
        session_cookie: bool = True,
        external_url: str = "https://harbor.sim",
        git_commit: str | None = None,
        ca_cert: bytes | None = None,
        storage_total: int = 500 * 1024**3,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or ManualClock()
        self.lock = threading.RLock()
        self.git_commit = git_commit or secrets.token_hex(4)
        self.external_url = external_url
        self.ca_cert = ca_cert
        self.storage_total = storage_total
        self.session_cookie = session_cookie
        self.components = {"trivy": with_trivy, "chartmuseum": with_chartmuseum, "notary": with_notary}
        self.unhealthy: dict[str, str] = {}  # component -> error message
        self.unreachable_urls: set[str] = set()  # registry URLs whose ping fails
        self.fleet: Any = None  # the Fleet this instance belongs to (replication peers), set by Fleet.add
        self.down = False  # fault: peers cannot connect (replication to/from it fails)
        self.registry_fault: int | None = None  # fault: its registry (/v2/) answers this 5xx status
        self.set_version(version)
        self.store = Store()
        self.config: dict[str, Any] = dict(DEFAULT_CONFIG)
        self.pinned_config: set[str] = set()
        self.ldap: LdapDirectory = ldap or InMemoryLdap.harbor_test_directory()
        if hasattr(self.ldap, "attach"):  # a real LDAP server (ldap_backend.py) follows the live ldap_* config
            self.ldap.attach(self.config)
        self.faults = Faults()
        self.jobs = JobBoard(self)
        self.audit_legacy = AuditTable(ext=False)
        self.audit_ext = AuditTable(ext=True)
        self.requests_served = 0
        now = self.clock.now()
        self.admin = User(1, "admin", admin_password, "admin@example.com", "system admin", "admin user", True, now, now)
        self.store.ids.next("user")
        self.store.users[1] = self.admin
        from harborops.harbor_sim.routes.projects import create_project

        create_project(self, "library", owner=self.admin, public=True, audit=False)

    # --- version ---------------------------------------------------------------------------------
    def set_version(self, version: str | SimVersion) -> None:
        self.version = parse_sim_version(version)
        self.behaviour = SimBehaviour.for_version(self.version)
        self.spec_name = self.behaviour.spec_name

    def upgrade(self, version: str | SimVersion) -> None:
        """Switch to a newer version keeping all data (2.13+: /audit-logs freezes from here on)."""
        with self.lock:
            self.set_version(version)

    @property
    def harbor_version(self) -> str:
        return f"v{self.version}-{self.git_commit}"

    # --- audit -----------------------------------------------------------------------------------
    def audit_tables(self) -> list[AuditTable]:
        return [self.audit_legacy, self.audit_ext]

    def record(
        self,
        who: str,
        operation: str,
        resource_type: str,
        resource: str,
        project: str | None = None,
        description: str = "",
        *,
        project_id: int | None = None,
        result: bool = True,
    ) -> None:
        """Write an audit event where this version writes it - and only the events it records
        (audit.recorded_kinds: auditlog.go Handler.Handle per version, auditext EventTypes).

        `project` scopes the row for non-admin listings; `project_id` defaults to that project's id
        (pass it when the project is already gone, e.g. delete_project). Events not in the version's
        list are dropped, as Harbor never emits them."""
        kind = f"{operation}_{resource_type}"
        if kind not in recorded_kinds(self.behaviour):
            return
        if self.config.get("skip_audit_log_database"):  # src/pkg/audit/manager.go Create (2.6+)
            return
        if project_id is None and project:
            proj = self.store.project_by_name(project)
            project_id = proj.project_id if proj is not None else None
        if self.behaviour.audit_log_ext:
            # src/lib/config/userconfig.go AuditLogEventEnabled: trimmed, case-insensitive
            disabled = {
                s.strip().lower() for s in str(self.config.get("disabled_audit_log_event_types", "")).split(",")
            }
            if kind.lower() in disabled:
                return
            table = self.audit_ext
        else:
            table = self.audit_legacy
        table.append(
            username=who,
            resource=resource,
            resource_type=resource_type,
            operation=operation,
            now=self.clock.now(),
            project=project,
            project_id=project_id,
            description=description,
            result=result,
        )

    def seed_audit(self, count: int, *, history: bool = False, step_seconds: float = 1.0) -> range:
        """Generate `count` audit rows lazily (no per-row memory). On 2.13+ they go to
        `/auditlog-exts` unless `history=True` (rows from before the upgrade, in `/audit-logs`).
        Seeds hold only event kinds every version of their table records (audit.LEGACY_EVENTS /
        audit.EXT_EVENTS)."""
        with self.lock:
            table = self.audit_ext if self.behaviour.audit_log_ext and not history else self.audit_legacy
            return table.seed(count, now=self.clock.now(), step_seconds=step_seconds)

    # --- users -----------------------------------------------------------------------------------
    def onboard_ldap_user(self, uid: str) -> User:
        user = self.store.user_by_name(uid)
        if user is not None:
            return user
        entry = self.ldap.find_user(uid)
        if entry is None:
            raise HarborError(404, f"user {uid} not found in LDAP")
        now = self.clock.now()
        user = User(
            self.store.ids.next("user"),
            entry.uid,
            "",
            entry.email,
            entry.realname,
            "",
            False,
            now,
            now,
            ldap_dn=entry.dn,
        )
        self.store.users[user.user_id] = user
        return user

    def add_user(self, username: str, password: str = "Harbor12345", *, sysadmin: bool = False) -> User:  # noqa: S107
        with self.lock:
            now = self.clock.now()
            user = User(
                self.store.ids.next("user"),
                username,
                password,
                f"{username}@example.com",
                username,
                "",
                sysadmin,
                now,
                now,
            )
            self.store.users[user.user_id] = user
            return user

    # --- request handling ------------------------------------------------------------------------
    def handle(self, req: SimRequest, prefix: str = "") -> SimResponse:
        api_root = prefix + "/api/v2.0"
        with self.lock:
            self.requests_served += 1
            if req.path == api_root or req.path.startswith(api_root + "/"):
                resp = self._dispatch(req, req.path[len(api_root) :] or "/", api_root)
            else:
                resp = SimResponse(404, [("Content-Type", JSON_TYPE)], error_body(404, "404 page not found"))
        headers = resp.headers
        headers.append((VERSION_HEADER, str(self.version)))
        headers.append(("X-Request-Id", req.header("x-request-id") or secrets.token_hex(8)))
        if self.session_cookie and "sid" not in req.cookies():
            headers.append(("Set-Cookie", f"sid={secrets.token_hex(16)}; Path=/; HttpOnly"))
        return resp

    def _dispatch(self, req: SimRequest, api_path: str, api_root: str) -> SimResponse:
        self.jobs.settle()
        faults = self.faults if not self.faults.idle and self.faults.applies(api_path) else None
        if faults is not None and (early := faults.before(api_path)) is not None:
            return early
        try:
            resp = self._route(req, api_path, api_root)
        except HarborError as err:
            resp = SimResponse(err.status, [("Content-Type", JSON_TYPE)], error_body(err.status, err.message, err.code))
        if req.method == "HEAD":
            resp.body = b""
        return faults.after(resp) if faults is not None else resp

    def _route(self, req: SimRequest, api_path: str, api_root: str) -> SimResponse:
        method = req.method.upper()
        if method in WRITE_METHODS and "sid" in req.cookies():
            raise HarborError(403, "CSRF token invalid", "FORBIDDEN")
        segments = split_path(api_path)
        candidates = [
            (r, p)
            for r, p in ROUTER.match(segments)
            if (r.feature is None or self.behaviour.supports(r.feature))
            and spec.has_operation(self.spec_name, r.method, r.template)
        ]
        if not candidates:
            raise HarborError(404, "404 page not found", "NOT_FOUND")
        chosen = next(((r, p) for r, p in candidates if r.method == method), None)
        if chosen is None:
            raise HarborError(405, f"method {method} is not allowed", "METHOD_NOT_ALLOWED")
        route, params = chosen
        # authenticate: wrong credentials fall back to anonymous, as Harbor's security middleware does
        try:
            who = authenticate(self, req.header("authorization"))
        except HarborError:
            who = ANONYMOUS
        ctx = Ctx(self, req, params, Query(req.query), who, api_root + api_path, api_root)
        return route.handler(ctx)


def _build_router() -> Router:
    from harborops.harbor_sim.routes import (
        artifacts,
        audit,
        gc,
        members,
        projects,
        replication,
        robots,
        system,
        users,
    )

    return Router(
        [
            system.routes,
            projects.routes,
            members.routes,
            users.routes,
            robots.routes,
            artifacts.routes,
            replication.routes,
            audit.routes,
            gc.routes,
        ]
    )


class _LazyRouter:
    _router: Router | None = None

    def match(self, segments: list[str]) -> Any:
        if self._router is None:
            self._router = _build_router()
        return self._router.match(segments)


ROUTER = _LazyRouter()
