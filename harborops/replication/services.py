"""Replication services: collect per instance (incremental), health roll-up, task logs, actions.

The collector reads, per instance: registries (each pinged live), policies, executions (only new
ones, by Harbor id above the highest stored, and the stored ones still InProgress) and the tasks of
executions that failed. One failing instance never stops the others: each is collected in its own
task (and `collect_many` catches per instance); its error is kept on its CollectState.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors
from harborops.harbor import types as ht
from harborops.harbor.client import HarborClient
from harborops.replication import health as healthlib
from harborops.replication.models import CollectState, Execution, FailedTask, Policy, Registry

logger = logging.getLogger(__name__)

COLLECT = "replication.collect"
PAGE = 50  # executions read per request while catching up


def client_for(instance: Instance) -> HarborClient:
    return instance.client(timeout=settings.REPLICATION_HARBOR_TIMEOUT)


@dataclass
class CollectResult:
    instance: str
    registries: int = 0
    policies: int = 0
    executions: int = 0
    failed_tasks: int = 0
    error: str = ""

    def summary(self) -> str:
        if self.error:
            return f"{self.instance}: failed: {self.error}"
        return (f"{self.instance}: {self.registries} registries, {self.policies} policies, "
                f"{self.executions} execution(s) read, {self.failed_tasks} failed task(s)")


# --- collection -------------------------------------------------------------------------------------
def collect_instance(instance: Instance, *, client: HarborClient | None = None) -> CollectResult:
    """Read one instance; raises HarborError when the instance cannot be read at all."""
    c = client or client_for(instance)
    result = CollectResult(instance.name)
    at = now()
    regs = _sync_registries(instance, c, at)
    result.registries = len(regs)
    policies = _sync_policies(instance, c.list_replication_policies(), regs)
    result.policies = len(policies)
    result.executions, result.failed_tasks = _sync_executions(instance, c, policies)
    recompute_health(instance, at=now())
    return result


def _sync_registries(instance: Instance, c: HarborClient, at: datetime) -> dict[int, Registry]:
    remote = c.list_registries()
    out: dict[int, Registry] = {}
    for r in remote:
        reachable: bool | None
        try:
            reachable, error = c.ping_registry(registry_id=r.id), ""
        except harbor_errors.HarborError as exc:  # the ping itself failed: we do not know
            reachable, error = None, exc.message
        row, _ = Registry.objects.update_or_create(
            instance=instance, harbor_id=r.id,
            defaults={"name": r.name, "url": r.url, "type": r.type, "harbor_status": r.status or "",
                      "reachable": reachable, "ping_error": error if reachable is None else
                      ("" if reachable else "Harbor says the registry is unhealthy"), "checked_at": at})
        out[r.id] = row
    Registry.objects.filter(instance=instance).exclude(harbor_id__in=list(out)).delete()
    return out


def _sync_policies(instance: Instance, remote: list[ht.ReplicationPolicy], regs: dict[int, Registry]
                   ) -> dict[int, Policy]:
    out: dict[int, Policy] = {}
    for p in remote:
        pull = bool(p.src_registry and p.src_registry.id)
        reg = (p.src_registry if pull else p.dest_registry) or ht.Registry()
        trig = p.trigger or ht.ReplicationTrigger()
        extra: dict[str, Any] = p.model_extra or {}
        row, _ = Policy.objects.update_or_create(
            instance=instance, harbor_id=p.id,
            defaults={"name": p.name, "description": p.description or "", "direction": "pull" if pull else "push",
                      "remote_registry": regs.get(reg.id), "remote_name": reg.name, "remote_url": reg.url,
                      "trigger_type": trig.type or "manual",
                      "cron": str((trig.trigger_settings or {}).get("cron") or ""),
                      "enabled": p.enabled, "replicate_deletion": p.replicate_deletion, "override": p.override,
                      "dest_namespace": p.dest_namespace or "", "filters": p.filters or [],
                      "harbor_created_at": _time(extra.get("creation_time")),
                      "harbor_updated_at": _time(extra.get("update_time"))})
        out[p.id] = row
    Policy.objects.filter(instance=instance).exclude(harbor_id__in=list(out)).delete()
    return out


def _time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str) or value.startswith("0001-"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sync_executions(instance: Instance, c: HarborClient, policies: dict[int, Policy]) -> tuple[int, int]:
    """New executions (id above the highest stored, newest first, page by page until reached) and the
    stored ones still InProgress (re-read one by one); then the failed tasks of failed ones."""
    known_max = Execution.objects.filter(instance=instance).aggregate(m=Max("harbor_id"))["m"] or 0
    first_run = not Execution.objects.filter(instance=instance).exists()
    fresh: dict[int, ht.ReplicationExecution] = {}
    limit = PAGE
    cap = settings.REPLICATION_FIRST_READ if first_run else settings.REPLICATION_MAX_NEW
    while True:
        rows = c.list_replication_executions(sort="-id", limit=limit)
        fresh.update({e.id: e for e in rows if e.id > known_max})
        if len(rows) < limit or rows[-1].id <= known_max or limit >= cap:
            break
        limit = min(limit * 4, cap)
    running = list(Execution.objects.filter(instance=instance, status=Execution.Status.IN_PROGRESS)
                   .exclude(harbor_id__in=list(fresh)).values_list("harbor_id", flat=True))
    for hid in running:
        try:
            fresh[hid] = c.get_replication_execution(hid)
        except harbor_errors.NotFound:
            Execution.objects.filter(instance=instance, harbor_id=hid).delete()
    tasks = 0
    for e in fresh.values():
        policy = policies.get(e.policy_id)
        if policy is None:
            continue
        with transaction.atomic():
            row, _ = Execution.objects.update_or_create(
                instance=instance, harbor_id=e.id,
                defaults={"policy": policy, "status": e.status, "status_text": e.status_text or "",
                          "trigger": e.trigger, "start_time": e.start_time, "end_time": e.end_time,
                          "total": e.total, "failed": e.failed, "succeed": e.succeed, "in_progress": e.in_progress,
                          "stopped": e.stopped})
            if row.status == Execution.Status.FAILED and not row.tasks_read:
                tasks += _read_failed_tasks(c, row)
    return len(fresh), tasks


def _read_failed_tasks(c: HarborClient, row: Execution) -> int:
    n = 0
    for t in c.list_replication_tasks(row.harbor_id, status="Failed"):
        FailedTask.objects.update_or_create(
            execution=row, harbor_id=t.id,
            defaults={"status": t.status, "operation": t.operation, "resource_type": t.resource_type,
                      "src_resource": t.src_resource, "dst_resource": t.dst_resource,
                      "start_time": t.start_time, "end_time": t.end_time})
        n += 1
    Execution.objects.filter(pk=row.pk).update(tasks_read=True)
    return n


def thresholds() -> healthlib.Thresholds:
    return healthlib.Thresholds(stuck_after=timedelta(minutes=settings.REPLICATION_STUCK_MINUTES),
                                lag_after=timedelta(hours=settings.REPLICATION_LAG_HOURS),
                                schedule_grace=timedelta(minutes=settings.REPLICATION_SCHEDULE_GRACE_MINUTES))


def recompute_health(instance: Instance, *, at: datetime) -> None:
    since = at - timedelta(days=max(8, settings.REPLICATION_HISTORY_DAYS))
    th = thresholds()
    for policy in Policy.objects.filter(instance=instance):
        execs = list(policy.executions.filter(start_time__gte=since) | policy.executions.filter(status="InProgress"))
        h = healthlib.compute(enabled=policy.enabled, trigger_type=policy.trigger_type, cron=policy.cron,
                              policy_since=policy.harbor_updated_at or policy.harbor_created_at, execs=execs,
                              now=at, th=th)
        Policy.objects.filter(pk=policy.pk).update(
            health=h.health, health_reason=h.reason[:500], last_status=h.last_status, last_run_at=h.last_run_at,
            last_success_at=h.last_success_at, failure_rate_24h=h.failure_rate_24h,
            failure_rate_7d=h.failure_rate_7d, stuck_count=len(h.stuck), missed_runs=len(h.missed),
            overlapping=h.overlapping, computed_at=at)
    cutoff = at - timedelta(days=settings.REPLICATION_HISTORY_DAYS)
    Execution.objects.filter(instance=instance, start_time__lt=cutoff).exclude(status="InProgress").delete()


def collect_one(instance_id: int) -> str:
    """One instance's scheduled collection. Never raises: the error goes to its CollectState."""
    instance = Instance.objects.filter(pk=instance_id, enabled=True).first()
    if instance is None:
        return f"skipped: instance {instance_id} gone or disabled"
    return collect_many([instance])[0].summary()


def collect_many(instances: Iterable[Instance]) -> list[CollectResult]:
    out = []
    for instance in instances:
        state, _ = CollectState.objects.get_or_create(instance=instance)
        state.last_run_at = now()
        try:
            result = collect_instance(instance)
            state.last_ok_at, state.last_error, state.executions_read = state.last_run_at, "", result.executions
        except Exception as exc:  # one instance's failure is its own (and is reported), never the fleet's
            message = exc.message if isinstance(exc, harbor_errors.HarborError) else f"{type(exc).__name__}: {exc}"
            logger.warning("replication collect of %s failed: %s", instance.name, message)
            result = CollectResult(instance.name, error=message)
            state.last_error = message[:2000]
        state.save()
        out.append(result)
    return out


def start_collect(*, actor: Actor, instance: Instance | None = None) -> JobRun:
    job = start_job(COLLECT, actor=actor, target=instance)
    record(actor=actor, action="replication.collect", obj=instance,
           object_type="" if instance else "replication.fleet",
           object_repr="" if instance else "all instances", after={"job": job.pk})
    return job


# --- reading ----------------------------------------------------------------------------------------
def task_log(task: FailedTask) -> str:
    """The task's log, read from Harbor now (never stored)."""
    ex = task.execution
    return client_for(ex.instance).replication_task_log(ex.harbor_id, task.harbor_id)


def health_counts() -> dict[str, int]:
    counts = dict.fromkeys(Policy.Health.values, 0)
    for h in Policy.objects.values_list("health", flat=True):
        counts[h] = counts.get(h, 0) + 1
    return counts


# --- actions (operator) --------------------------------------------------------------------------------
class ActionFailed(Exception):
    """Harbor refused or could not be reached; the message says why (shown to the operator)."""


def _harbor(call: Any, what: str) -> Any:
    try:
        return call()
    except harbor_errors.HarborError as exc:
        raise ActionFailed(f"{what}: {exc.message}") from exc


def trigger_policy(policy: Policy, *, actor: Actor) -> int:
    """Start a manual execution on Harbor; returns the Harbor execution id."""
    c = client_for(policy.instance)
    try:
        ex_id = int(_harbor(lambda: c.start_replication(policy.harbor_id), f"starting {policy}"))
    except ActionFailed as exc:
        record(actor=actor, action="replication.trigger", obj=policy, outcome="failure", message=str(exc))
        raise
    record(actor=actor, action="replication.trigger", obj=policy, after={"execution": ex_id})
    _refresh_quietly(policy.instance, c)
    return ex_id


def stop_execution(execution: Execution, *, actor: Actor) -> None:
    """Ask Harbor to stop an execution. Harbor marks it Stopped; tasks already copied stay copied."""
    c = client_for(execution.instance)
    try:
        _harbor(lambda: c.stop_replication(execution.harbor_id), f"stopping execution {execution.harbor_id}")
    except ActionFailed as exc:
        record(actor=actor, action="replication.stop", obj=execution, outcome="failure", message=str(exc))
        raise
    record(actor=actor, action="replication.stop", obj=execution, before={"status": execution.status})
    _refresh_quietly(execution.instance, c)


def set_enabled(policy: Policy, enabled: bool, *, actor: Actor) -> None:
    """PUT the policy back as Harbor has it, with only `enabled` changed (read first: nothing else moves)."""
    c = client_for(policy.instance)
    action = "replication.enable" if enabled else "replication.disable"
    try:
        current = _harbor(lambda: c.get_replication_policy(policy.harbor_id), f"reading {policy}")
        body = current.model_dump(mode="json", exclude_none=True)
        for side in ("src_registry", "dest_registry"):
            if isinstance(body.get(side), dict):
                body[side] = {"id": body[side].get("id", 0)}
        body["enabled"] = enabled
        _harbor(lambda: c.update_replication_policy(policy.harbor_id, body), f"updating {policy}")
    except ActionFailed as exc:
        record(actor=actor, action=action, obj=policy, outcome="failure", message=str(exc))
        raise
    record(actor=actor, action=action, obj=policy, before={"enabled": policy.enabled}, after={"enabled": enabled})
    _refresh_quietly(policy.instance, c)


def _refresh_quietly(instance: Instance, c: HarborClient) -> None:
    """Re-read the instance after an action so the pages show it; a failure here is only logged."""
    try:
        collect_instance(instance, client=c)
    except Exception as exc:
        logger.warning("refresh of %s after an action failed: %s", instance.name, exc)
