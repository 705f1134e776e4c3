"""Background jobs over simulated time: GC, audit purge, replication executions, job queues.

Nothing runs in the background: each job knows when it started and how long it takes, and its
status is computed from the instance clock when asked. Side effects (GC frees bytes, purge deletes
rows) are applied once by `JobBoard.settle()`, which the instance calls before every request.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import bad_request

if TYPE_CHECKING:
    from harborops.harbor_sim.behaviour import SimBehaviour
    from harborops.harbor_sim.instance import HarborInstance

OUTCOMES = ("success", "fail", "hang")
# A job that never reports again (outcome "hang") is failed by jobservice's reaper: it marks a task
# whose stats were not updated for 24 h as Error, checking once an hour, so by 25 h at the latest
# (src/jobservice/worker/cworker/reaper.go@v2.3.0 maxUpdateDuration, reapLoopInterval; from
# src/jobservice/config/config.go@v2.13.0 MaxUpdateDuration the 24 h is jobservice's max_update_hours,
# never less). The job itself keeps running; only its status turns Error.
REAPER_FAILS_HUNG_AFTER = timedelta(hours=25)
# strfmt.DateTime of Go's zero time: what Harbor answers for end_time before a job ends.
ZERO_TIME = "0001-01-01T00:00:00.000Z"
# The job names jobservice registers (src/jobservice/runtime/bootstrap.go RegisterJobs) as
# GET /jobservice/queues lists them: the redis "known jobs" minus monitor.go's skippedJobTypes
# (DEMO, IMAGE_REPLICATE, IMAGE_GC, IMAGE_SCAN_ALL; PURGE_AUDIT from 2.8). SCAN_ALL and SBOM are
# execution vendor types (scan-all / SBOM executions run IMAGE_SCAN jobs), never queues.
BASE_QUEUES = (
    "GARBAGE_COLLECTION",
    "IMAGE_SCAN",
    "P2P_PREHEAT",
    "REPLICATION",
    "RETENTION",
    "SCAN_DATA_EXPORT",
    "SCHEDULER",
    "SLACK",
    "SYSTEM_ARTIFACT_CLEANUP",
    "WEBHOOK",
)


def purge_queue(beh: SimBehaviour) -> str:
    """The purge-audit job's jobservice name: PURGE_AUDIT in 2.6-2.7, PURGE_AUDIT_LOG from 2.8."""
    return "PURGE_AUDIT_LOG" if beh.supports("jobservice_queue_purge_audit_log") else "PURGE_AUDIT"


def queue_types(beh: SimBehaviour) -> tuple[str, ...]:
    """The job types GET /jobservice/queues lists for this version, sorted by name."""
    names = [*BASE_QUEUES, purge_queue(beh)]
    if beh.supports("jobservice_queue_execution_sweep"):
        names.append("EXECUTION_SWEEP")
    if beh.supports("jobservice_queue_gdpr"):
        names.append("AUDIT_LOGS_GDPR_COMPLIANT")
    return tuple(sorted(names))


def check_cron(cron: str) -> None:
    fields = cron.split()
    if len(fields) != 6 or fields[0] != "0":
        raise bad_request(f"invalid cron string for scheduled job: {cron}")


@dataclass(slots=True)
class AdminJob:
    """A GC or purge-audit execution (GCHistory / ExecHistory)."""

    id: int
    kind: str  # gc | purge
    trigger: str  # MANUAL | SCHEDULE
    params: dict[str, Any]
    created: datetime
    duration: float
    outcome: str
    start: datetime | None = None  # None while queued (queue paused)
    stopped_at: datetime | None = None
    applied: bool = False
    result: dict[str, Any] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def end(self) -> datetime | None:
        if self.stopped_at is not None:
            return self.stopped_at
        if self.start is None:
            return None
        if self.outcome == "hang":
            return self.start + REAPER_FAILS_HUNG_AFTER
        return self.start + timedelta(seconds=self.duration)

    def status(self, now: datetime) -> str:
        if self.stopped_at is not None:
            return "Stopped"
        if self.start is None:
            return "Pending"
        end = self.end()
        if end is None or now < end:
            return "Running"
        return "Error" if self.outcome in ("fail", "hang") else "Success"


@dataclass(slots=True)
class ReplTask:
    id: int
    execution_id: int
    src_resource: str
    dst_resource: str
    finish_after: float  # seconds after the execution start
    fail: bool = False
    # What the task does when it runs (replicate.py): copy/deletion of `arts` from src_repo to dst_repo.
    operation: str = "copy"
    resource_type: str = "artifact"
    src_repo: str = ""
    dst_repo: str = ""
    arts: list[Any] = field(default_factory=list)
    tag_only: bool = False
    applied: bool = False
    log: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReplExecution:
    id: int
    policy_id: int
    trigger: str
    start: datetime
    outcome: str
    tasks: list[ReplTask] = field(default_factory=list)
    stopped_at: datetime | None = None
    # Tasks wait in the jobservice queue (REPLICATION paused) until resumed: status "Pending".
    queued: bool = False
    run_start: datetime | None = None  # when the queued tasks started (None: at `start`)
    status_text: str = ""  # execution.StatusMessage (flow errors, "no resources need to be replicated")
    error: bool = False  # the flow failed before creating tasks (execution.go markError): Failed

    @property
    def began(self) -> datetime:
        return self.run_start or self.start

    def done_at(self, t: ReplTask) -> datetime | None:
        """When the task's job ends by itself (None: it never does before the reaper)."""
        if self.queued:
            return None
        if self.outcome == "hang":
            return self.began + REAPER_FAILS_HUNG_AFTER
        return self.began + timedelta(seconds=t.finish_after)

    def task_status(self, t: ReplTask, now: datetime) -> str:
        """Harbor's task statuses as convertTask answers them: Pending passes through unchanged."""
        if self.queued:
            return "Stopped" if self.stopped_at is not None else "Pending"
        done_at = self.done_at(t)
        finished = done_at is not None and done_at <= now
        if self.stopped_at is not None and (not finished or (done_at is not None and done_at > self.stopped_at)):
            return "Stopped"
        if not finished:
            return "InProgress"
        # a hung job is failed by jobservice's reaper (REAPER_FAILS_HUNG_AFTER)
        return "Failed" if t.fail or self.outcome == "hang" else "Succeed"

    def task_start(self, t: ReplTask) -> datetime | None:
        return None if self.queued else self.began

    def task_end(self, t: ReplTask, now: datetime) -> datetime | None:
        st = self.task_status(t, now)
        if st == "Stopped":
            return self.stopped_at
        if st in ("InProgress", "Pending"):
            return None
        return self.done_at(t)

    def render(self, now: datetime) -> dict[str, Any]:
        states = [self.task_status(t, now) for t in self.tasks]
        counts = {s: states.count(s) for s in ("Failed", "Succeed", "InProgress", "Stopped", "Pending")}
        # convertExecution: in_progress counts pending + scheduled + running tasks
        counts["InProgress"] += counts.pop("Pending")
        if self.error:
            status = "Failed"
        elif self.stopped_at is not None:
            status = "Stopped"
        elif counts["InProgress"]:
            status = "InProgress"
        elif counts["Failed"]:
            status = "Failed"
        else:
            status = "Succeed"
        ends = [e for t in self.tasks if (e := self.task_end(t, now)) is not None]
        out: dict[str, Any] = {
            "id": self.id,
            "policy_id": self.policy_id,
            "status": status,
            "trigger": self.trigger,
            "start_time": iso(self.start),
            "status_text": self.status_text,
            "total": len(self.tasks),
            "failed": counts["Failed"],
            "succeed": counts["Succeed"],
            "in_progress": counts["InProgress"],
            "stopped": counts["Stopped"],
        }
        # convertExecution always sets EndTime: the zero time while the execution runs.
        out["end_time"] = ZERO_TIME if status == "InProgress" else iso(max(ends) if ends else self.start)
        return out


class JobBoard:
    def __init__(self, inst: HarborInstance) -> None:
        self.inst = inst
        self.admin_jobs: dict[int, AdminJob] = {}
        self.repl: dict[int, ReplExecution] = {}
        self.durations: dict[str, float] = {"gc": 30.0, "purge": 20.0, "replication": 60.0}
        self.outcomes: dict[str, str] = {"gc": "success", "purge": "success", "replication": "success"}
        self.one_shot: dict[str, deque[str]] = {k: deque() for k in self.outcomes}
        self.paused: set[str] = set()
        self.schedules: dict[str, dict[str, Any]] = {}  # gc | purge -> {id, type, cron, params, created, updated}
        self.started = inst.clock.now()

    # --- test controls ------------------------------------------------------------------------
    def set_outcome(self, kind: str, outcome: str, *, once: bool = False) -> None:
        """Make future `kind` jobs (gc | purge | replication) succeed, fail or hang."""
        if outcome not in OUTCOMES or kind not in self.outcomes:
            raise ValueError(f"unknown job kind/outcome {kind}/{outcome}")
        if once:
            self.one_shot[kind].append(outcome)
        else:
            self.outcomes[kind] = outcome

    def _next_outcome(self, kind: str) -> str:
        return self.one_shot[kind].popleft() if self.one_shot[kind] else self.outcomes[kind]

    # --- admin jobs (GC, purge) -----------------------------------------------------------------
    def start_admin_job(self, kind: str, params: dict[str, Any], trigger: str = "MANUAL") -> AdminJob:
        now = self.inst.clock.now()
        job = AdminJob(
            self.inst.store.ids.next("execution"),
            kind,
            trigger,
            params,
            now,
            self.durations[kind],
            self._next_outcome(kind),
        )
        if self.queue_of(job) not in self.paused:
            job.start = now
        self.admin_jobs[job.id] = job
        return job

    def fire_schedule(self, kind: str) -> AdminJob:
        """Test control: the scheduler fires the `kind` (gc | purge) schedule now (trigger SCHEDULE)."""
        sched = self.schedules.get(kind)
        if sched is None:
            raise ValueError(f"no {kind} schedule to fire")
        return self.start_admin_job(kind, dict(sched["params"]), trigger="SCHEDULE")

    def lose_schedule(self, kind: str) -> None:
        """Fault: the `kind` (gc | purge) schedule is gone without anyone removing it through the API,
        as operators report after upgrades and Redis resets (before v2.2 jobservice kept GC schedules in
        its Redis: goharbor/harbor#13917; #13968 upgraded schedules untracked). GET schedule answers empty."""
        self.schedules.pop(kind, None)

    def stop_admin_job(self, job: AdminJob) -> None:
        now = self.inst.clock.now()
        if job.status(now) in ("Running", "Pending"):
            job.stopped_at = now

    def queue_of(self, job: AdminJob) -> str:
        """The jobservice job name (queue) an admin job runs under on this version."""
        return "GARBAGE_COLLECTION" if job.kind == "gc" else purge_queue(self.inst.behaviour)

    def queue_types(self) -> tuple[str, ...]:
        return queue_types(self.inst.behaviour)

    def queue_action(self, job_type: str, action: str) -> None:
        types = self.queue_types() if job_type == "all" else (job_type,)
        now = self.inst.clock.now()
        for t in types:
            if action == "pause":
                self.paused.add(t)
            elif action == "resume":
                self.paused.discard(t)
                for j in self.admin_jobs.values():
                    if self.queue_of(j) == t and j.start is None and j.stopped_at is None:
                        j.start = now
                if t == "REPLICATION":
                    for ex in self.repl.values():
                        if ex.queued and ex.stopped_at is None:
                            ex.queued, ex.run_start = False, now
            elif action == "stop":
                self.paused.discard(t) if job_type == "all" else None
                for j in self.admin_jobs.values():
                    if self.queue_of(j) == t and j.status(now) in ("Pending", "Running"):
                        j.stopped_at = now
                if t == "REPLICATION":
                    for ex in self.repl.values():
                        if ex.queued and ex.stopped_at is None:
                            ex.stopped_at = now

    def queue_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.queue_types(), 0)
        for j in self.admin_jobs.values():
            if j.start is None and j.stopped_at is None:
                counts[self.queue_of(j)] = counts.get(self.queue_of(j), 0) + 1
        for ex in self.repl.values():
            if ex.queued and ex.stopped_at is None:
                counts["REPLICATION"] += len(ex.tasks)
        return counts

    def settle(self) -> None:
        """Apply the effects of jobs that finished by now (once each)."""
        from harborops.harbor_sim.replicate import settle as settle_replication

        settle_replication(self.inst)  # replication tasks and scheduled policies, fleet-wide
        now = self.inst.clock.now()
        for job in self.admin_jobs.values():
            if not job.applied and job.status(now) in ("Success", "Error", "Stopped"):
                job.applied = True
                if job.status(now) == "Success":
                    if job.kind == "gc":
                        self._finish_gc(job)
                    else:
                        self._finish_purge(job)
                elif job.outcome == "hang" and job.stopped_at is None:
                    job.log.append(f"{iso(now)} [ERROR] Reaper: mark job failed as job is still not finished in 1 day")
                else:
                    job.log.append(f"{iso(now)} [ERROR] job {job.status(now).lower()}")

    def _finish_gc(self, job: AdminJob) -> None:
        store = self.inst.store
        dry_run = bool(job.params.get("dry_run"))
        blobs, manifests, freed = store.garbage_blobs, store.garbage_manifests, store.garbage_bytes
        if job.params.get("delete_untagged"):
            # markOrSweepUntaggedBlobs / deletedArt: a dry run only simulates the untagged deletions
            for repo in store.repositories.values():
                for aid in [a.id for a in repo.artifacts.values() if not a.tags]:
                    art = repo.artifacts[aid] if dry_run else repo.artifacts.pop(aid)
                    freed, manifests, blobs = freed + art.size, manifests + 1, blobs + 2
        ts = iso(self.inst.clock.now())
        workers = job.params.get("workers", 1)
        # src/jobservice/job/impl/gc/garbage_collection.go@v2.13.0 (same lines at v2.3.0): mark logs the
        # eligible counts and a rough estimate; only a real run sweeps, logs what it deleted and (from
        # v2.9.0 saveGCRes) checks in freed_space / purged_* -- a dry run returns after mark.
        job.log += [
            f"{ts} [INFO] workers: {workers}",
            f"{ts} [INFO] {blobs} blobs and {manifests} manifests eligible for deletion",
            f"{ts} [INFO] The GC could free up {freed // (1024 * 1024)} MB space, the size is a rough estimation.",
        ]
        if not dry_run:
            job.log += [
                f"{ts} [INFO] {blobs} blobs and {manifests} manifests are actually deleted",
                f"{ts} [INFO] The GC job actual frees up {freed // (1024 * 1024)} MB space.",
            ]
            store.garbage_bytes = store.garbage_manifests = store.garbage_blobs = 0
            job.result = {"freed_space": freed, "purged_blobs": blobs, "purged_manifests": manifests}
        job.log.append(f"{ts} [INFO] success to run gc in job.")

    def _finish_purge(self, job: AdminJob) -> None:
        """src/jobservice/job/impl/purge/purge.go Job.Run: retention 0/-1 quits, capped at 240000 h; the
        list is split on ',' as given (no trimming). Before 2.13 audit_log is purged by operation; from 2.13
        both tables get the same event-type list: audit_log keeps only bare pull/create/delete tokens
        (so event types leave it alone), audit_log_ext matches lower(operation_resource_type)."""
        from harborops.harbor_sim.audit import ext_event_types, ext_purge_filter, legacy_purge_filter

        inst = self.inst
        now = inst.clock.now()
        ts = iso(now)
        hours = job.params.get("audit_retention_hour")
        hours = int(hours) if isinstance(hours, int | float) and not isinstance(hours, bool) else 0
        raw = job.params.get(inst.behaviour.purge_event_key or "include_operations")
        tokens = str(raw).split(",") if isinstance(raw, str) and raw else []
        dry = bool(job.params.get("dry_run"))
        job.log.append(f"{ts} [INFO] Purge audit job start")
        if hours in (0, -1):
            job.log.append(f"{ts} [INFO] quit purge job, retentionHour:{hours} ")
            job.result = {"purged": 0}
            return
        cutoff = now - timedelta(hours=min(hours, 240000))
        prefix = "[DRYRUN]" if dry else ""
        purged = inst.audit_legacy.purge(cutoff, legacy_purge_filter(tokens), dry_run=dry)
        job.log.append(f"{ts} [INFO] {prefix}Purged {purged} rows of audit logs")
        if inst.behaviour.supports("audit_purge_both_tables"):
            kinds = ext_purge_filter(tokens, ext_event_types(inst.behaviour))
            n2 = inst.audit_ext.purge(cutoff, kinds, dry_run=dry)
            job.log.append(f"{ts} [INFO] {prefix}Purged {n2} rows of audit log exts")
            purged += n2
        job.result = {"purged": purged}

    def render_admin(self, job: AdminJob) -> dict[str, Any]:
        now = self.inst.clock.now()
        beh = self.inst.behaviour
        params = dict(job.params)
        if job.kind == "gc":
            params.setdefault("delete_untagged", False)
            params.setdefault("dry_run", False)
            if beh.gc_workers:
                params.setdefault("workers", 1)
                if job.result:
                    params.update(job.result)
                    params["time_window"] = 2
            if not beh.gc_redis_url_redacted:
                params["redis_url_reg"] = "redis://redis:6379/1?idle_timeout_seconds=30"
        updated = job.end() if job.status(now) not in ("Running", "Pending") else None
        return {
            "id": job.id,
            # the execution vendor type (gc.GCVendorType / purge VendorType), not the jobservice queue name
            "job_name": "GARBAGE_COLLECTION" if job.kind == "gc" else "PURGE_AUDIT_LOG",
            "job_kind": job.trigger,
            "job_parameters": json.dumps(params, sort_keys=True),
            # model/gc.go GCHistory.ToSwagger: Title(lower(execution trigger)) -> Manual | Schedule
            "schedule": {"type": job.trigger.lower().title()},
            "job_status": job.status(now),
            "deleted": False,
            "creation_time": iso(job.created),
            "update_time": iso(updated or job.start or job.created),
        }

    # --- replication (flows and effects in replicate.py) -------------------------------------------
    def start_replication(
        self,
        policy: dict[str, Any],
        trigger: str = "manual",
        *,
        at: datetime | None = None,
        resource: tuple[str, list[Any], bool, bool] | None = None,
    ) -> ReplExecution:
        """controller/replication/execution.go Start + flow/copy.go|deletion.go Run, done at once: fetch
        the resources (or take the event's), map them to the destination, prepare it, create the tasks."""
        from harborops.harbor_sim import replicate as rp

        inst = self.inst
        now = at or inst.clock.now()
        pid = int(policy["id"])
        ex = ReplExecution(inst.store.ids.next("execution"), pid, trigger, now, self._next_outcome("replication"))
        self.repl[ex.id] = ex
        single = policy.get("single_active_replication") and inst.behaviour.supports("replication_single_active")
        if single and any(
            o.policy_id == pid and o is not ex and o.render(now)["status"] == "InProgress" for o in self.repl.values()
        ):
            ex.error, ex.status_text = True, "Execution skipped: active replication still in progress."
            return ex
        regs = inst.store.registries
        src = rp.resolve(inst, regs.get(policy["_src"]) if policy.get("_src") else None)
        dst = rp.resolve(inst, regs.get(policy["_dest"]) if policy.get("_dest") else None)
        filters = list(policy.get("filters") or [])
        deleted = tag_only = False
        if resource is not None:
            repo, arts, deleted, tag_only = resource
            resources = [(repo, arts)]
        elif src.api_down:
            ex.error, ex.status_text = True, f"failed to fetch artifacts: {src.error}"
            return ex
        else:
            resources = rp.fetch(src, filters)
        if not resources:
            ex.status_text = "no resources need to be replicated"
            return ex
        try:
            ns, count = policy.get("dest_namespace") or "", int(policy.get("dest_namespace_replace_count", -1))
            mapped = [rp.replace_namespace(repo, ns, count) for repo, _ in resources]
        except ValueError as err:
            ex.error, ex.status_text = True, str(err)
            return ex
        if not deleted:  # copy.go prepareForPush: the harbor adapter creates missing projects
            if dst.api_down:
                ex.error = True
                ex.status_text = f"failed to do the prepare work for pushing/uploading resources: {dst.error}"
                return ex
            if dst.inst is not None:
                rp.prepare_projects(dst.inst, [m.split("/", 1)[0] for m in mapped])
        duration = self.durations["replication"]
        n = len(resources)
        for i, ((repo, arts), dst_repo) in enumerate(zip(resources, mapped, strict=True)):
            ex.tasks.append(
                ReplTask(
                    inst.store.ids.next("task"),
                    ex.id,
                    rp.resource_name(repo, arts),
                    rp.resource_name(dst_repo, arts),
                    duration * (i + 1) / n,
                    operation="deletion" if deleted else "copy",
                    src_repo=repo,
                    dst_repo=dst_repo,
                    arts=list(arts),
                    tag_only=tag_only,
                )
            )
        ex.queued = "REPLICATION" in self.paused
        rp.mark_busy(inst)
        return ex

    def repl_busy(self) -> bool:
        """Unapplied tasks or scheduled policies: the fleet must settle this board."""
        return any(not t.applied for ex in self.repl.values() for t in ex.tasks) or any(
            p["enabled"] and p["trigger"]["type"] == "scheduled" for p in self.inst.store.policies.values()
        )

    def task_log(self, ex: ReplExecution, t: ReplTask) -> str:
        now = self.inst.clock.now()
        st = ex.task_status(t, now)
        at = ex.task_start(t) or ex.start
        lines = list(t.log)
        if not lines and st in ("InProgress", "Stopped"):
            lines.append(
                f"{iso(at)[:19]}Z [INFO] [/controller/replication/transfer/image/transfer.go:183]: copying "
                f"{t.src_repo}:[{','.join(_refs(t))}](source registry) to {t.dst_repo}:[{','.join(_refs(t))}]"
                "(destination registry)..."
            )
        if st == "Stopped":
            lines.append(f"{iso(ex.stopped_at or now)[:19]}Z [INFO] [/controller/replication/transfer/image/transfer.go:175]: the job is stopped")  # noqa: E501
        elif st == "Failed" and not t.fail:  # hung job failed by the reaper
            lines.append(f"{iso(now)[:19]}Z [ERROR] Reaper: mark job failed as job is still not finished in 1 day")
        return "\n".join(lines) + ("\n" if lines else "")


def _refs(t: ReplTask) -> list[str]:
    return [r for a in t.arts for r in (a.tags or [a.digest])]
