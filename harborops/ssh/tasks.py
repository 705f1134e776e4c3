"""The job kinds of the SSH layer: thin, over services (STYLE G7)."""

from __future__ import annotations

from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.ssh import services
from harborops.ssh.models import SSHHost


def start_check(*, actor: Actor, host: SSHHost) -> JobRun:
    return start_job("ssh.check", actor=actor, target=host)


@job_kind("ssh.check", title="Check an SSH host", queue="periodic", max_attempts=1)
def run_check(job: JobRun, log: JobLog) -> str:
    host = SSHHost.objects.filter(pk=job.target_id).first()
    if host is None:
        return "skipped: the host no longer exists"
    log.info(f"connecting to {host.username}@{host.address}:{host.port}")
    result = services.check_host(host, sink=lambda stream, line: log.write(line, stream))
    if not result.ok:
        raise JobFailed(result.message)
    return result.message
