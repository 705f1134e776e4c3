"""Ping, health, system info, statistics, configurations, jobservice queues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harborops.harbor import errors as e
from harborops.harbor import types as t
from harborops.harbor.capabilities import Capabilities
from harborops.harbor.ops import EndpointBase, Op, Req, caps_op, endpoint, parse_list, parse_model, seg

# Configuration keys introduced after v2.3, by capability (Harbor ignores unknown keys silently).
CONFIG_KEY_FEATURES = {
    "ldap_group_attach_parallel": "ldap_group_attach_parallel",
    "audit_log_forward_endpoint": "audit_log_forward",
    "skip_audit_log_database": "audit_log_forward",
    "disabled_audit_log_event_types": "disabled_audit_log_event_types",
}
JOB_QUEUE_ACTIONS = frozenset({"stop", "pause", "resume"})


class SystemEndpoints(EndpointBase):
    @endpoint
    def ping(self) -> Op[str]:
        """GET /ping → ``Pong`` (API process alive; ignores dependencies)."""
        resp = yield Req("GET", "/ping")
        return resp.text.strip()

    @endpoint
    def health(self) -> Op[t.Health]:
        """GET /health. Always HTTP 200: judge by ``.status``/``.healthy``."""
        resp = yield Req("GET", "/health")
        return parse_model(t.Health, resp.json(), resp)

    @endpoint
    def systeminfo(self) -> Op[t.SystemInfo]:
        resp = yield Req("GET", "/systeminfo")
        return parse_model(t.SystemInfo, resp.json() or {}, resp)

    @endpoint
    def detect_version(self) -> Op[Capabilities]:
        """Capabilities from authenticated /systeminfo (cached on the client)."""
        self.capabilities = None
        return (yield from caps_op(self))

    @endpoint
    def volumes(self) -> Op[t.Volumes]:
        resp = yield Req("GET", "/systeminfo/volumes")
        return parse_model(t.Volumes, resp.json(), resp)

    @endpoint
    def getcert(self) -> Op[bytes | None]:
        """The CA Harbor serves for download; None when none was dropped in (404)."""
        resp = yield Req("GET", "/systeminfo/getcert", accept=frozenset({404}))
        return None if resp.status == 404 else resp.content

    @endpoint
    def statistics(self) -> Op[t.Statistic]:
        resp = yield Req("GET", "/statistics")
        return parse_model(t.Statistic, resp.json(), resp)

    @endpoint
    def get_configurations(self) -> Op[dict[str, t.ConfigItem]]:
        """GET /configurations: key → {value, editable}; secrets are never returned by Harbor."""
        resp = yield Req("GET", "/configurations")
        data = resp.json() or {}
        return {k: parse_model(t.ConfigItem, v, resp) for k, v in data.items() if isinstance(v, dict)}

    @endpoint
    def update_configurations(self, changes: Mapping[str, Any]) -> Op[None]:
        """PUT only the keys to change. Secret values are masked in every error message."""
        caps = yield from caps_op(self)
        for key, feature in CONFIG_KEY_FEATURES.items():
            if key in changes:
                caps.require(feature, f"configuration {key}")
        secrets = tuple(str(v) for k, v in changes.items() if k in e.SECRET_KEYS or "secret" in k or "password" in k)
        yield Req("PUT", "/configurations", json=dict(changes), secrets=secrets)
        return None

    @endpoint
    def list_job_queues(self) -> Op[list[t.JobQueue]]:
        """GET /jobservice/queues (v2.7+)."""
        caps = yield from caps_op(self)
        caps.require("jobservice")
        resp = yield Req("GET", "/jobservice/queues")
        return parse_list(t.JobQueue, resp.json(), resp)

    @endpoint
    def job_queue_action(self, job_type: str, action: str) -> Op[None]:
        """PUT /jobservice/queues/{job_type} {action: stop|pause|resume}; job_type ``all`` allowed."""
        if action not in JOB_QUEUE_ACTIONS:
            raise ValueError(f"action must be one of {sorted(JOB_QUEUE_ACTIONS)}")
        caps = yield from caps_op(self)
        caps.require("jobservice")
        yield Req("PUT", f"/jobservice/queues/{seg(job_type)}", json={"action": action})
        return None
