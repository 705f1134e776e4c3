"""One instance's online GC through Harbor's API, as a small state machine the run loop advances.

1. Read the version, the free space (/systeminfo/volumes) and the storage use (/statistics).
2. With ``dry_run_first``: start a dry-run GC, poll its history entry until it ends, read its log
   (the mark phase's "could free up N MB" estimate).
3. Start the real GC (POST /system/gc/schedule, type Manual), poll ``GET /system/gc/{id}`` until it
   ends, read its log and record the freed bytes: the run's own ``freed_space`` (Harbor 2.9+ checks
   it in), else the log's "actual frees up N MB" line, else the volume's free space after - before.
Each transition is saved on the step, so a re-run after a lost worker polls the GC it started
instead of starting another one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.timezone import now

from harborops.core.jobs import JobLog
from harborops.core.redaction import redact
from harborops.harbor import errors as e
from harborops.harbor.capabilities import Capabilities
from harborops.harbor.client import HarborClient
from harborops.maintenance.models import GCStep

COULD_FREE = re.compile(r"The GC could free up (\d+) MB space")
ACTUAL_FREE = re.compile(r"The GC job actual frees up (\d+) MB space")
SUMMARY = re.compile(r"eligible for deletion|free up|frees up|actually deleted|ERROR|no need to execute GC|stop signal")
MB = 1024 * 1024
HARBOR_LOG_CHARS = 200_000
SUCCESS = {"success", "succeed", "finished"}
FAILURE = {"error", "failed", "stopped"}
MAX_POLL_ERRORS = 5


class Ticker:
    """Time as the run loop sees it. Tests swap ``TICKER`` for one that moves the simulator's clock."""

    def now(self) -> datetime:
        return now()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


TICKER = Ticker()


@dataclass(frozen=True)
class GCOptions:
    delete_untagged: bool = False
    dry_run_first: bool = True
    workers: int | None = None


def step_note(step: GCStep, log: JobLog, text: str, *, level: str = "info") -> None:
    """A line in the step's own log and, prefixed with the instance, in the job log."""
    text = redact(text)
    stamp = now().strftime("%H:%M:%S")
    step.log = f"{step.log}{stamp} {text}\n"
    log.write(f"[{step.instance_name}] {text}", level)


def workers_for(caps: Capabilities, wanted: int | None) -> tuple[int | None, str]:
    """The workers parameter this version accepts (None = leave Harbor's default) and why."""
    if wanted is None:
        return None, ""
    if not caps.gc_workers:
        return None, f"workers not sent: Harbor {caps.version} has no GC workers (2.9+)"
    most = 10 if caps.gc_workers_max_10 else 5
    if wanted > most:
        return most, f"workers {wanted} lowered to {most}, the most Harbor {caps.version} accepts"
    return wanted, ""


@dataclass
class OnlineGC:
    step: GCStep
    options: GCOptions
    log: JobLog
    client: HarborClient | None = None
    caps: Capabilities | None = None
    poll_errors: int = 0
    workers: int | None = None

    # --- plumbing ----------------------------------------------------------------------------
    def note(self, text: str, *, level: str = "info") -> None:
        step_note(self.step, self.log, text, level=level)

    def save(self, *fields: str) -> None:
        self.step.save(update_fields=["log", *fields])

    def _client(self) -> HarborClient:
        if self.client is None:
            assert self.step.instance is not None
            self.client = self.step.instance.client(timeout=float(settings.GC_HARBOR_TIMEOUT))
            self.caps = self.client.detect_version()
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def finish(self, status: str, message: str) -> None:
        step = self.step
        step.status, step.message, step.finished_at = status, redact(message)[:2000], now()
        self.note(message, level="info" if status == GCStep.Status.SUCCEEDED else "error")
        self.save("status", "message", "finished_at", "freed_bytes", "freed_source", "free_after", "used_after",
                  "estimated_bytes", "harbor_status", "harbor_log", "phase")
        self.close()

    @property
    def finished(self) -> bool:
        return self.step.status in GCStep.FINISHED

    # --- the machine ------------------------------------------------------------------------
    def begin(self) -> None:
        """Step 1 and the first GC (or resume polling the one recorded on the step)."""
        step = self.step
        try:
            client = self._client()
            assert self.caps is not None
            if step.phase and (step.harbor_gc_id or step.dry_run_gc_id):
                self.note(f"resuming: polling {step.phase} GC {self.current_id()} started earlier")
                return
            self.workers, why = workers_for(self.caps, self.options.workers)
            self.note(f"Harbor {self.caps.version}; options: delete_untagged={self.options.delete_untagged}, "
                      f"dry run first={self.options.dry_run_first}, workers={self.workers or 'default'}")
            if why:
                self.note(why, level="warning")
            step.free_before, step.used_before = self._storage(client)
            self._start("dry-run" if self.options.dry_run_first else "gc")
        except e.HarborError as exc:
            self.finish(GCStep.Status.FAILED, f"could not start GC: {exc.message}")

    def current_id(self) -> int:
        gc_id = self.step.dry_run_gc_id if self.step.phase == "dry-run" else self.step.harbor_gc_id
        assert gc_id is not None
        return int(gc_id)

    def _storage(self, client: HarborClient) -> tuple[int | None, int | None]:
        """(free, used) bytes of the registry's storage from /systeminfo/volumes."""
        try:
            storage = client.volumes().storage
        except e.HarborError as exc:
            self.note(f"free space not readable: {exc.message}", level="warning")
            return None, None
        if not storage:
            return None, None
        return storage[0].free, max(0, storage[0].total - storage[0].free)

    def _start(self, phase: str) -> None:
        client = self._client()
        dry = phase == "dry-run"
        gc_id = client.run_gc(delete_untagged=self.options.delete_untagged, dry_run=dry, workers=self.workers)
        step = self.step
        step.phase = phase
        if dry:
            step.dry_run_gc_id = gc_id
        else:
            step.harbor_gc_id = gc_id
        self.note(f"{'dry-run ' if dry else ''}GC {gc_id} started")
        self.save("phase", "dry_run_gc_id", "harbor_gc_id", "free_before", "used_before", "started_at", "status")

    def poll(self) -> None:
        """Advance once: read the running GC's history entry; on its end, move on."""
        if self.finished:
            return
        try:
            client = self._client()
            gc_id = self.current_id()
            entry = client.get_gc(gc_id)
            self.poll_errors = 0
        except e.HarborError as exc:
            self.poll_errors += 1
            if exc.transient and self.poll_errors < MAX_POLL_ERRORS:
                self.note(f"poll failed ({self.poll_errors}/{MAX_POLL_ERRORS}): {exc.message}", level="warning")
                self.save()
                return
            self.finish(GCStep.Status.FAILED, f"lost track of the GC: {exc.message}")
            return
        status = entry.job_status.lower()
        if status not in SUCCESS | FAILURE:
            return
        self.step.harbor_status = entry.job_status
        text = self._harbor_log(client, gc_id)
        if self.step.phase == "dry-run":
            if status not in SUCCESS:
                self.finish(GCStep.Status.FAILED, f"dry-run GC {gc_id} ended {entry.job_status}")
                return
            found = COULD_FREE.search(text)
            self.step.estimated_bytes = int(found.group(1)) * MB if found else None
            self.note(f"dry run done: could free about {found.group(1) if found else '?'} MB")
            try:
                self._start("gc")
            except e.HarborError as exc:
                self.finish(GCStep.Status.FAILED, f"could not start the real GC: {exc.message}")
            return
        if status not in SUCCESS:
            self.finish(GCStep.Status.FAILED, f"GC {gc_id} ended {entry.job_status}")
            return
        self._record_freed(client, entry.job_parameters, text)
        freed = self.step.freed_bytes
        self.finish(GCStep.Status.SUCCEEDED,
                    f"GC {gc_id} succeeded: freed {freed if freed is not None else '?'} bytes "
                    f"({self.step.freed_source or 'unknown'})")

    def _harbor_log(self, client: HarborClient, gc_id: int) -> str:
        try:
            text = client.gc_log(gc_id)
        except e.HarborError as exc:
            self.note(f"GC {gc_id} log not readable: {exc.message}", level="warning")
            return ""
        text = redact(text)
        header = f"--- GC {gc_id} ({self.step.phase}) ---\n"
        self.step.harbor_log = (self.step.harbor_log + header + text)[-HARBOR_LOG_CHARS:]
        for line in text.splitlines():
            if SUMMARY.search(line):
                self.note(f"harbor: {line.strip()}")
        return text

    def _record_freed(self, client: HarborClient, params: dict[str, Any], text: str) -> None:
        step = self.step
        step.free_after, step.used_after = self._storage(client)
        found = ACTUAL_FREE.search(text)
        if isinstance(params.get("freed_space"), int):
            step.freed_bytes, step.freed_source = int(params["freed_space"]), "harbor result"
        elif found:
            step.freed_bytes, step.freed_source = int(found.group(1)) * MB, "gc log (MB)"
        elif step.free_before is not None and step.free_after is not None:
            step.freed_bytes, step.freed_source = max(0, step.free_after - step.free_before), "volumes"

    def stop_for_window(self, deadline: datetime) -> None:
        """The window ended while this GC runs: stop it where the version can (2.6+), and report."""
        if self.finished:
            return
        ended = f"the maintenance window ended at {deadline:%Y-%m-%d %H:%M}"
        try:
            client = self._client()
            assert self.caps is not None
            if not self.step.phase:
                self.finish(GCStep.Status.OVERRUN, f"{ended} before GC started")
                return
            if self.caps.gc_stop:
                client.stop_gc(self.current_id())
                self.finish(GCStep.Status.OVERRUN, f"{ended}; GC {self.current_id()} stopped")
            else:
                self.finish(GCStep.Status.OVERRUN,
                            f"{ended}; Harbor {self.caps.version} cannot stop a GC (PUT /system/gc/{{id}} came "
                            f"with 2.6): GC {self.current_id()} keeps running")
        except e.HarborError as exc:
            self.finish(GCStep.Status.OVERRUN, f"{ended}; stopping GC failed: {exc.message}")
