"""Registries, replication policies, executions and tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harborops.harbor import types as t
from harborops.harbor.ops import (
    EndpointBase,
    Op,
    Req,
    caps_op,
    endpoint,
    location_id,
    opt,
    paged_models,
    parse_model,
    q_params,
)
from harborops.harbor.query import build_sort

# Policy fields that older Harbors silently drop (go-swagger ignores unknown JSON keys).
POLICY_FIELD_FEATURES = {
    "speed": "replication_speed",
    "copy_by_chunk": "replication_copy_by_chunk",
    "single_active_replication": "replication_single_active",
}
EXECUTION_STATUSES = frozenset({"InProgress", "Succeed", "Failed", "Stopped"})
TASK_STATUSES = EXECUTION_STATUSES | {"Pending"}


def _secrets(body: Mapping[str, Any]) -> tuple[str, ...]:
    cred = body.get("credential") or {}
    secret = cred.get("access_secret") if isinstance(cred, Mapping) else None
    return (str(secret),) if secret else ()


class ReplicationEndpoints(EndpointBase):
    # -- registries --------------------------------------------------------------------------
    @endpoint
    def list_registries(self, *, q: str | None = None) -> Op[list[t.Registry]]:
        return (yield from paged_models(t.Registry, Req("GET", "/registries", q_params(q, None))))

    @endpoint
    def get_registry(self, registry_id: int) -> Op[t.Registry]:
        resp = yield Req("GET", f"/registries/{int(registry_id)}")
        return parse_model(t.Registry, resp.json(), resp)

    @endpoint
    def create_registry(self, registry: Mapping[str, Any]) -> Op[int]:
        """POST /registries {name, url, type, insecure, credential{type, access_key, access_secret}} → id."""
        caps = yield from caps_op(self)
        if registry.get("ca_certificate"):
            caps.require("registry_ca_certificate")
        resp = yield Req("POST", "/registries", json=dict(registry), secrets=_secrets(registry))
        return location_id(resp)

    @endpoint
    def update_registry(self, registry_id: int, update: Mapping[str, Any]) -> Op[None]:
        """PUT /registries/{id} with a RegistryUpdate (flat: name, url, credential_type, access_key,
        access_secret, insecure, description); fields left out stay as they are."""
        secret = update.get("access_secret")
        yield Req("PUT", f"/registries/{int(registry_id)}", json=dict(update), secrets=(str(secret),) if secret else ())
        return None

    @endpoint
    def delete_registry(self, registry_id: int) -> Op[None]:
        yield Req("DELETE", f"/registries/{int(registry_id)}")
        return None

    @endpoint
    def ping_registry(self, *, registry_id: int | None = None, registry: Mapping[str, Any] | None = None) -> Op[bool]:
        """POST /registries/ping: True healthy, False when Harbor says unhealthy (HTTP 400)."""
        if (registry_id is None) == (registry is None):
            raise ValueError("give registry_id or registry")
        body = {"id": registry_id} if registry_id is not None else dict(registry or {})
        resp = yield Req("POST", "/registries/ping", json=body, accept=frozenset({400}), secrets=_secrets(body))
        return resp.status == 200

    # -- policies ----------------------------------------------------------------------------
    @endpoint
    def list_replication_policies(self, *, q: str | None = None) -> Op[list[t.ReplicationPolicy]]:
        return (yield from paged_models(t.ReplicationPolicy, Req("GET", "/replication/policies", q_params(q, None))))

    @endpoint
    def get_replication_policy(self, policy_id: int) -> Op[t.ReplicationPolicy]:
        resp = yield Req("GET", f"/replication/policies/{int(policy_id)}")
        return parse_model(t.ReplicationPolicy, resp.json(), resp)

    def _check_policy(self, policy: Mapping[str, Any]) -> Op[None]:
        caps = yield from caps_op(self)
        for key, feature in POLICY_FIELD_FEATURES.items():
            if policy.get(key) not in (None, False, -1):
                caps.require(feature, f"replication policy field {key}")

    @endpoint
    def create_replication_policy(self, policy: Mapping[str, Any]) -> Op[int]:
        """POST /replication/policies → id. Cron strings are 6 fields, seconds first."""
        yield from self._check_policy(policy)
        resp = yield Req("POST", "/replication/policies", json=dict(policy))
        return location_id(resp)

    @endpoint
    def update_replication_policy(self, policy_id: int, policy: Mapping[str, Any]) -> Op[None]:
        yield from self._check_policy(policy)
        yield Req("PUT", f"/replication/policies/{int(policy_id)}", json=dict(policy))
        return None

    @endpoint
    def delete_replication_policy(self, policy_id: int) -> Op[None]:
        yield Req("DELETE", f"/replication/policies/{int(policy_id)}")
        return None

    # -- executions & tasks ------------------------------------------------------------------
    @endpoint
    def list_replication_executions(
        self,
        *,
        policy_id: int | None = None,
        status: str | None = None,
        trigger: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
    ) -> Op[list[t.ReplicationExecution]]:
        """No ``q`` on this endpoint: filters are policy_id/status/trigger."""
        if status is not None and status not in EXECUTION_STATUSES:
            raise ValueError(f"status must be one of {sorted(EXECUTION_STATUSES)}")
        if sort:
            build_sort("replication_execution", *sort.split(","))
        params = opt(policy_id=policy_id, status=status, trigger=trigger, sort=sort)
        req = Req("GET", "/replication/executions", params)
        return (yield from paged_models(t.ReplicationExecution, req, limit=limit))

    @endpoint
    def get_replication_execution(self, execution_id: int) -> Op[t.ReplicationExecution]:
        resp = yield Req("GET", f"/replication/executions/{int(execution_id)}")
        return parse_model(t.ReplicationExecution, resp.json(), resp)

    @endpoint
    def start_replication(self, policy_id: int) -> Op[int]:
        """POST /replication/executions {policy_id} → execution id."""
        resp = yield Req("POST", "/replication/executions", json={"policy_id": int(policy_id)})
        return location_id(resp)

    @endpoint
    def stop_replication(self, execution_id: int) -> Op[None]:
        """PUT /replication/executions/{id} (no body) stops it."""
        yield Req("PUT", f"/replication/executions/{int(execution_id)}")
        return None

    @endpoint
    def list_replication_tasks(
        self, execution_id: int, *, status: str | None = None, resource_type: str | None = None
    ) -> Op[list[t.ReplicationTask]]:
        if status is not None and status not in TASK_STATUSES:
            raise ValueError(f"status must be one of {sorted(TASK_STATUSES)}")
        params = opt(status=status, resource_type=resource_type)
        req = Req("GET", f"/replication/executions/{int(execution_id)}/tasks", params)
        return (yield from paged_models(t.ReplicationTask, req))

    @endpoint
    def replication_task_log(self, execution_id: int, task_id: int) -> Op[str]:
        resp = yield Req("GET", f"/replication/executions/{int(execution_id)}/tasks/{int(task_id)}/log")
        return resp.text
