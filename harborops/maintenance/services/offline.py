"""Offline GC over SSH: the handbook's stop / garbage-collect / start, done by a job.

1. ``du -sb`` the storage directory (before).
2. Stop the registry (``docker compose stop SERVICE`` in its directory, ``systemctl stop UNIT``, or
   the configured command). A registry must be stopped for GC: distribution's garbage-collect under
   a live registry leaves deleted blobs answering 200 and breaks later pushes.
3. With ``dry_run_first``: ``GC_COMMAND --dry-run [--delete-untagged] CONFIG``, then the real
   ``GC_COMMAND [--delete-untagged] CONFIG``, each streamed line by line into the step and job log.
4. Start the registry again — always, also when garbage-collect failed or the job was cancelled.
5. Verify from harborops: ``/v2/`` answers (200 or 401) and every configured manifest pulls (its
   manifest and config blob download, its layers exist).
6. ``du -sb`` again: the freed bytes. The step says which state it left the registry in.
Every value reaches the remote shell through the SSH layer's ``command()`` quoting.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

import httpx
from django.db import connection
from django.utils.timezone import now

from harborops.core.jobs import JobLog
from harborops.core.models import JobRun
from harborops.maintenance.models import GCStep, OfflineTarget
from harborops.maintenance.services.online import step_note
from harborops.ssh import client as ssh

DEFAULT_GC_COMMAND = ["registry", "garbage-collect"]
MANIFEST_TYPES = ", ".join((
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"))
VERIFY_SECONDS = 60
SAVE_EVERY = 1.0


def parse_argv(text: str, field: str) -> list[str]:
    """A command typed as text → an argument list (shell-like splitting once, on save)."""
    from django.core.exceptions import ValidationError

    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ValidationError({field: f"cannot split the command: {exc}"}) from None


def stop_argv(target: OfflineTarget) -> list[str]:
    if target.stop_mode == OfflineTarget.StopMode.COMPOSE:
        return ["docker", "compose", "--project-directory", target.compose_dir, "stop",
                *([target.compose_service] if target.compose_service else [])]
    if target.stop_mode == OfflineTarget.StopMode.SYSTEMD:
        return ["systemctl", "stop", target.systemd_unit]
    return list(target.stop_command)


def start_argv(target: OfflineTarget) -> list[str]:
    if target.stop_mode == OfflineTarget.StopMode.COMPOSE:
        return ["docker", "compose", "--project-directory", target.compose_dir, "start",
                *([target.compose_service] if target.compose_service else [])]
    if target.stop_mode == OfflineTarget.StopMode.SYSTEMD:
        return ["systemctl", "start", target.systemd_unit]
    return list(target.start_command)


def gc_argv(target: OfflineTarget, *, dry_run: bool, delete_untagged: bool) -> list[str]:
    return [*(target.gc_command or DEFAULT_GC_COMMAND), *(["--dry-run"] if dry_run else []),
            *(["--delete-untagged"] if delete_untagged else []), target.config_path]


class StepFailed(Exception):
    pass


class OfflineGC:
    """Runs in a thread of the run loop (SSH commands block); writes only its own step."""

    def __init__(self, step: GCStep, *, delete_untagged: bool, dry_run_first: bool, log: JobLog,
                 cancelled: Callable[[], bool]) -> None:
        self.step, self.log, self.cancelled = step, log, cancelled
        self.delete_untagged, self.dry_run_first = delete_untagged, dry_run_first
        self._last_save = 0.0

    def note(self, text: str, *, level: str = "info") -> None:
        step_note(self.step, self.log, text, level=level)
        if time.monotonic() - self._last_save >= SAVE_EVERY:
            self._last_save = time.monotonic()
            self.step.save(update_fields=["log", "phase", "state_left"])

    def _sink(self, stream: str, line: str) -> None:
        self.note(f"{'! ' if stream == 'stderr' else ''}{line}", level="stdout" if stream == "stdout" else "stderr")

    def _run(self, conn: ssh.Connection, argv: list[str], what: str, *, timeout: float) -> ssh.Result:
        self.note(f"$ {' '.join(shlex.quote(a) for a in argv)}")
        result = conn.stream(ssh.command(*argv), self._sink, timeout=timeout, cancelled=self.cancelled)
        if not result.ok:
            raise StepFailed(f"{what} exited with status {result.exit_status}")
        return result

    def _du(self, conn: ssh.Connection) -> int | None:
        result = conn.run(ssh.command("du", "-sb", self.step.offline_target.storage_dir), timeout=600)  # type: ignore[union-attr]
        try:
            return int(result.stdout.split()[0]) if result.ok else None
        except (IndexError, ValueError):
            return None

    def run(self) -> None:
        step = self.step
        target = step.offline_target
        assert target is not None
        stopped = False
        try:
            with target.host.connect() as conn:
                step.used_before = self._du(conn)
                self.note(f"{target.storage_dir}: {step.used_before} bytes before GC")
                step.phase, step.state_left = "stop", "stopping"
                self._run(conn, stop_argv(target), "stop", timeout=600)
                stopped, step.state_left = True, "stopped"
                try:
                    if self.dry_run_first:
                        step.phase = "dry-run"
                        self._run(conn, gc_argv(target, dry_run=True, delete_untagged=self.delete_untagged),
                                  "garbage-collect --dry-run", timeout=target.command_timeout)
                    step.phase = "gc"
                    self._run(conn, gc_argv(target, dry_run=False, delete_untagged=self.delete_untagged),
                              "garbage-collect", timeout=target.command_timeout)
                    gc_error = ""
                except (StepFailed, ssh.SSHError) as exc:
                    gc_error = str(exc)
                    self.note(f"{gc_error}; starting the registry again", level="error")
                finally:
                    step.phase = "start"
                    self._start(conn, target)
                    stopped = False
                step.used_after = self._du(conn)
                if step.used_before is not None and step.used_after is not None:
                    step.freed_bytes, step.freed_source = max(0, step.used_before - step.used_after), "du"
                self.note(f"{target.storage_dir}: {step.used_after} bytes after GC")
            step.phase = "verify"
            self._verify(target)
            if gc_error:
                raise StepFailed(f"{gc_error}; the registry was started again and answers")
            self._finish(GCStep.Status.SUCCEEDED, f"offline GC done: freed {step.freed_bytes} bytes (du); the "
                                                  "registry is running and serves the verified manifests")
        except (StepFailed, ssh.SSHError) as exc:
            if stopped and not step.state_left.startswith("STOPPED"):
                step.state_left = "STOPPED: the registry could not be started again"
            self._finish(GCStep.Status.FAILED, f"{exc} — registry state: {step.state_left or 'not touched'}")
        finally:
            connection.close()

    def _start(self, conn: ssh.Connection, target: OfflineTarget) -> None:
        try:
            result = conn.stream(ssh.command(*start_argv(target)), self._sink, timeout=600)  # never cancelled
        except ssh.SSHError as exc:
            self.step.state_left = "STOPPED: the start command failed"
            raise StepFailed(f"start failed: {exc}") from None
        if not result.ok:
            self.step.state_left = "STOPPED: the start command failed"
            raise StepFailed(f"start exited with status {result.exit_status}")
        self.step.state_left = "started"
        self.note("registry started")

    def _verify(self, target: OfflineTarget) -> None:
        base = target.registry_url.rstrip("/")
        deadline = time.monotonic() + VERIFY_SECONDS
        with httpx.Client(timeout=10.0) as http:
            while True:
                try:
                    status = http.get(f"{base}/v2/").status_code
                except httpx.HTTPError as exc:
                    status, why = 0, str(exc)
                if status in (200, 401):
                    break
                if time.monotonic() > deadline:
                    self.step.state_left = "started, but /v2/ does not answer"
                    raise StepFailed(f"the registry did not answer /v2/ within {VERIFY_SECONDS}s "
                                     f"({status or why})")
                time.sleep(0.5)
            self.note(f"{base}/v2/ answers {status}")
            for ref in target.verify_refs:
                self._pull(http, base, str(ref))
        self.step.state_left = "running and verified"

    def _pull(self, http: httpx.Client, base: str, ref: str) -> None:
        name, _, tag = ref.rpartition(":") if "@" not in ref else (ref.split("@")[0], "", ref.split("@")[1])
        r = http.get(f"{base}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES})
        if r.status_code != 200:
            self.step.state_left = f"started, but {ref} does not pull"
            raise StepFailed(f"verify: {ref}: manifest answers {r.status_code}")
        manifest = r.json()
        blobs = [manifest.get("config") or {}, *(manifest.get("layers") or [])]
        for n, blob in enumerate(b for b in blobs if b.get("digest")):
            url = f"{base}/v2/{name}/blobs/{blob['digest']}"
            got = http.get(url) if n == 0 else http.head(url, follow_redirects=True)
            if got.status_code != 200:
                self.step.state_left = f"started, but {ref} does not pull"
                raise StepFailed(f"verify: {ref}: blob {blob['digest']} answers {got.status_code}")
        self.note(f"verify: {ref} pulls (manifest and {len(blobs)} blob(s))")

    def _finish(self, status: str, message: str) -> None:
        step = self.step
        step.status, step.message, step.finished_at = status, message[:2000], now()
        self.note(message, level="info" if status == GCStep.Status.SUCCEEDED else "error")
        step.save(update_fields=["status", "message", "finished_at", "log", "phase", "state_left", "used_before",
                                 "used_after", "freed_bytes", "freed_source"])

    def recover(self) -> None:
        """A worker died during this step: the registry may be stopped. Start it and verify."""
        target = self.step.offline_target
        assert target is not None
        try:
            self.note("the worker running this offline GC was lost; starting the registry to be safe",
                      level="warning")
            with target.host.connect() as conn:
                self._start(conn, target)
            self._verify(target)
            self._finish(GCStep.Status.FAILED, f"interrupted (worker lost) — registry state: {self.step.state_left}")
        except (StepFailed, ssh.SSHError) as exc:
            self._finish(GCStep.Status.FAILED, f"interrupted (worker lost); {exc} — registry state: "
                                               f"{self.step.state_left or 'unknown'}")
        finally:
            connection.close()


def cancelled_check(job: JobRun) -> Callable[[], bool]:
    return lambda: JobRun.objects.filter(pk=job.pk, cancel_requested=True).exists()
