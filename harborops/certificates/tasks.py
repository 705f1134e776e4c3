"""The certificate scan as a job (scan now, and the scheduled scan): thin, over services (STYLE G7)."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from harborops.audit.services import record
from harborops.certificates.models import Endpoint, PullingHost, TrustState
from harborops.certificates.services import scan, trust
from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, job_kind, start_job
from harborops.core.models import JobRun

SCAN = "certificates.scan"


def _say(log: JobLog) -> Callable[[str, str], None]:
    """The services report ``(level, text)``; the job log takes ``(text, level)``."""
    return lambda level, text: log.write(text, level)


def start_scan(*, actor: Actor, endpoint: Endpoint | None = None,
               trigger: str = JobRun.Trigger.USER) -> JobRun:
    """"Scan now": one endpoint (``endpoint``) or every enabled one (the fleet's instances included)."""
    return start_job(SCAN, actor=actor, target=endpoint, trigger=trigger)


@job_kind(SCAN, title="Scan TLS certificates", queue="periodic", max_attempts=1)
def run_scan(job: JobRun, log: JobLog) -> str:
    if job.target_id:
        endpoint = Endpoint.objects.select_related("instance").filter(pk=job.target_id).first()
        if endpoint is None:
            return "skipped: the endpoint no longer exists"
        result = scan.scan_endpoints([endpoint], say=_say(log))
    else:
        result = scan.scan_all(say=_say(log))
    summary = result.summary()
    log.info(summary)
    if result.outcomes and all(o.status == "unreachable" for o in result.outcomes):
        raise JobFailed(summary)
    return summary


@shared_task(acks_late=True, name="harborops.certificates.tasks.scan_certificates", queue="periodic")
def scan_certificates() -> str:
    """The scheduled scan (HARBOROPS_CERT_SCAN_CRON): a job like "scan now", so its log is on the Jobs page."""
    job = start_scan(actor=Actor.system("schedule"), trigger=JobRun.Trigger.SCHEDULED)
    return f"certificate scan job {job.pk} queued"


TRUST_PUSH = "certificates.trust_push"
TRUST_CHECK = "certificates.trust_check"


def start_trust_push(*, actor: Actor, pulling_ids: list[int], endpoint_ids: list[int]) -> JobRun:
    """"Trust these registries on these hosts": a job over every (host, registry) pair."""
    target = None
    if len(pulling_ids) == 1:
        target = PullingHost.objects.filter(pk=pulling_ids[0]).first()
    job = start_job(TRUST_PUSH, actor=actor, target=target,
                    params={"pulling_hosts": pulling_ids, "endpoints": endpoint_ids})
    record(actor=actor, action="certificates.trust.push", obj=job, before=None,
           after={"pulling_hosts": pulling_ids, "endpoints": endpoint_ids, "job": job.pk})
    return job


def start_trust_check(*, actor: Actor, trigger: str = JobRun.Trigger.USER) -> JobRun:
    return start_job(TRUST_CHECK, actor=actor, trigger=trigger)


@job_kind(TRUST_PUSH, title="Push CA trust to pulling hosts", queue="jobs", max_attempts=1)
def run_trust_push(job: JobRun, log: JobLog) -> str:
    hosts = list(PullingHost.objects.filter(pk__in=job.params.get("pulling_hosts") or []).select_related("host"))
    endpoints = list(Endpoint.objects.filter(pk__in=job.params.get("endpoints") or []).select_related("trust_ca"))
    log.progress(0, len(hosts) * len(endpoints))
    states: list[str] = []
    for pulling in hosts:
        for endpoint in endpoints:
            log.check_cancelled()
            log.info(f"{pulling} × {endpoint.label} ({endpoint.host}:{endpoint.port})")
            states.append(trust.push(pulling, endpoint, say=_say(log)).state)
            log.advance()
    ok = states.count(TrustState.State.OK)
    summary = f"{ok} of {len(states)} host × registry pair(s) trusted and verified from the host"
    if ok < len(states):
        raise JobFailed(summary)
    return summary


@job_kind(TRUST_CHECK, title="Check CA trust on pulling hosts", queue="periodic", max_attempts=1)
def run_trust_check(job: JobRun, log: JobLog) -> str:
    counts = trust.check_all(say=_say(log))
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to check"
    log.info(summary)
    return summary


@shared_task(acks_late=True, name="harborops.certificates.tasks.check_trust", queue="periodic")
def check_trust() -> str:
    """The scheduled trust-matrix refresh (HARBOROPS_CERT_TRUST_CRON), as a job."""
    job = start_trust_check(actor=Actor.system("schedule"), trigger=JobRun.Trigger.SCHEDULED)
    return f"trust check job {job.pk} queued"
