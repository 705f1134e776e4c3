"""The certificate scan as a job (scan now, and the scheduled scan): thin, over services (STYLE G7)."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from harborops.audit.services import record
from harborops.certificates.models import Deployment, Endpoint, PullingHost, TrustState
from harborops.certificates.services import disk, managed, rotation, scan, trust
from harborops.certificates.services.endpoints import sync_instance_endpoints
from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.installs.models import InstallTarget

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
    if not job.target_id and managed.managed_targets():
        # After the handshakes, so "served equals the file on disk" compares with this scan.
        findings = disk.observe_all(say=_say(log))
        summary += f"; certificate files on managed hosts read ({findings} finding(s))"
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


ROTATE = "certificates.rotate"


@job_kind(ROTATE, title="Rotate a server certificate", queue="jobs", max_attempts=1)
def run_rotation(job: JobRun, log: JobLog) -> str:
    """One member at a time; the next only after the previous one serves the new certificate."""
    deployment = Deployment.objects.select_related("issued__ca", "instance").filter(pk=job.target_id).first()
    if deployment is None:
        return "skipped: the rotation no longer exists"
    Deployment.objects.filter(pk=deployment.pk).update(status=Deployment.Status.RUNNING)
    try:
        return _rotate(deployment, log)
    finally:
        # A crash or a cancel must not leave the rotation "running" (that would block the next one).
        Deployment.objects.filter(pk=deployment.pk, status=Deployment.Status.RUNNING).update(
            status=Deployment.Status.FAILED)


def _rotate(deployment: Deployment, log: JobLog) -> str:
    issued = deployment.issued
    members = list(deployment.members)
    if deployment.instance is not None and deployment.instance.ha_group_id is not None:
        managed_ids = {t.instance_id for t in managed.members(deployment.instance)}
        others = Instance.objects.filter(ha_group_id=deployment.instance.ha_group_id).exclude(pk__in=managed_ids)
        for other in others.order_by("name"):
            log.warning(f"{other.name} is in the HA group but not managed over SSH: rotate it by hand")
    log.progress(0, len(members))
    log.info(f"rotating {deployment.instance_name} to {issued.fingerprint[:23]}… (expires {issued.not_after:%Y-%m-%d},"
             f" {', '.join(issued.sans)}) on {len(members)} host(s), one at a time")
    final, failed_message = Deployment.Status.SUCCEEDED, ""
    for i, member in enumerate(members):
        if failed_message:
            members[i] = {**member, "status": "skipped",
                          "message": "not started: the previous host did not verify, so this one keeps its certificate"}
            log.warning(f"[{member['host']}] skipped: the previous host did not verify")
            continue
        log.check_cancelled()
        target = InstallTarget.objects.select_related("install", "host", "instance").filter(
            pk=member["target"]).first()
        if target is None:
            result = rotation.MemberResult(member["host"], member.get("instance", ""), "failed",
                                           "the install target no longer exists")
        else:
            result = rotation.rotate_member(target, issued, say=_say(log), cancelled=lambda: _cancel_asked(log.job))
        members[i] = {**member, **result.as_dict()}
        Deployment.objects.filter(pk=deployment.pk).update(members=members)
        log.advance()
        if result.status != "succeeded":
            failed_message = f"{result.host}: {result.message}"
            final = Deployment.Status.RESTORED if result.status == "restored" else Deployment.Status.FAILED
        elif target is not None:
            rotation.record_install_certificate(target.install, issued)
    Deployment.objects.filter(pk=deployment.pk).update(members=members, status=final)
    _rescan(deployment, log)
    done = sum(m.get("status") == "succeeded" for m in members)
    if failed_message:
        restored = " (the previous certificate was restored there)" if final == Deployment.Status.RESTORED else ""
        raise JobFailed(f"rotation failed on {failed_message}{restored}; {done} of {len(members)} host(s) rotated")
    return f"{done} of {len(members)} host(s) serve {issued.fingerprint[:23]}… (expires {issued.not_after:%Y-%m-%d})"


def _cancel_asked(job: JobRun) -> bool:
    return JobRun.objects.filter(pk=job.pk, cancel_requested=True).exists()


def _rescan(deployment: Deployment, log: JobLog) -> None:
    """Record what is served now (history: old → new) and re-read the files of the members."""
    if deployment.instance is None:
        return
    targets = managed.members(deployment.instance)
    sync_instance_endpoints()
    endpoints = list(Endpoint.objects.filter(instance_id__in={t.instance_id for t in targets if t.instance_id})
                     .select_related("instance").order_by("label"))
    if endpoints:
        scan.scan_endpoints(endpoints, say=_say(log))
    for target in targets:
        disk.observe_target(target)
