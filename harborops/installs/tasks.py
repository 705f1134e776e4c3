"""The install job kind: thin, over steps.py (STYLE G7). One job installs every host of an install
(an HA pair) one after another, with per-host, per-step progress."""

from __future__ import annotations

from django.conf import settings

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import JobCancelled, JobFailed, JobLog, job_kind
from harborops.core.models import JobRun
from harborops.installs import services, steps
from harborops.installs.models import STEP_TITLES, STEPS, Install
from harborops.ssh.client import CommandCancelled, SSHError

# Tests inject these (they never resolve real names; the thresholds fit the test machine).
RESOLVER: steps.preflight.Resolver | None = None


@job_kind(services.JOB_KIND, title="Install Harbor over SSH", queue="jobs", max_attempts=1,
          time_limit=None)
def run_install(job: JobRun, log: JobLog) -> str:
    install = Install.objects.filter(pk=job.params.get("install")).select_related("installer").first()
    if install is None:
        return "skipped: the install no longer exists"
    actor = Actor.for_user(job.user, via=f"job-{job.pk}") if job.user else Actor.system(job.actor_name or "system")
    targets = list(install.targets.select_related("host").order_by("position", "pk"))
    log.progress(sum(t.step_status(s) == "done" for t in targets for s in STEPS), len(targets) * len(STEPS))
    outcome = Install.Status.FAILED
    try:
        # Preflight every host first: a failing second host of an HA pair stops the job before the
        # first one is touched.
        for target in targets:
            _run_target(install, target, log, actor, STEPS[:1])
        for target in targets:
            _run_target(install, target, log, actor, STEPS[1:])
        outcome = Install.Status.SUCCEEDED
    except JobCancelled:
        outcome = Install.Status.CANCELLED
        raise
    finally:
        Install.objects.filter(pk=install.pk).update(status=outcome)
        record(actor=actor, action=f"installs.install.{outcome}", obj=install, before=None,
               after={"job": job.pk, "steps": {t.host.name: {s: t.step_status(s) for s in STEPS} for t in targets}},
               outcome="success" if outcome == Install.Status.SUCCEEDED else "failure")
    urls = ", ".join(t.url for t in targets)
    return f"Harbor {install.installer.version} installed and registered: {urls}"


def _run_target(install: Install, target: steps.InstallTarget, log: JobLog, actor: Actor,
                names: tuple[str, ...]) -> None:
    host = target.host
    if all(target.step_status(s) == "done" for s in names):
        if all(target.step_status(s) == "done" for s in STEPS):
            if names[-1] == STEPS[-1]:
                log.info(f"[{host.name}] every step is already done: nothing to do")
        else:
            for step in names:
                log.info(f"[{host.name}] {step}: already done, skipped")
        return
    log.info(f"== {host.name} ({host.address}) as {target.hostname}: {', '.join(names)} ==")
    try:
        ssh = host.connect()
    except SSHError as exc:
        first = next(s for s in names if target.step_status(s) != "done")
        services.mark_step(target, first, "failed", exc.message)
        raise JobFailed(f"{host.name}: {exc.message}") from None
    thresholds = steps.preflight.Thresholds.parse(settings.INSTALL_THRESHOLDS)
    with ssh:
        ctx = steps.Context(install, target, ssh, log, actor, resolver=RESOLVER, thresholds=thresholds)
        for step in names:
            log.check_cancelled()
            if target.step_status(step) == "done":
                log.info(f"[{host.name}] {step}: already done, skipped")
                continue
            log.info(f"[{host.name}] {step}: {STEP_TITLES[step]}")
            services.mark_step(target, step, "running")
            try:
                detail = steps.STEP_FUNCTIONS[step](ctx)
            except (CommandCancelled, JobCancelled):
                services.mark_step(target, step, "cancelled", "cancelled on request")
                raise JobCancelled("cancelled on request") from None
            except (steps.StepFailed, SSHError, ValueError) as exc:
                message = getattr(exc, "message", str(exc))
                services.mark_step(target, step, "failed", message)
                raise JobFailed(f"{host.name}: {step} failed: {message}") from None
            services.mark_step(target, step, "done", detail)
            log.info(f"[{host.name}] {step}: {detail}")
            log.advance()
