"""Job kinds the tests define. A real worker imports this module with ``celery worker -I``."""

from __future__ import annotations

import time
from pathlib import Path

from django.db import transaction

from harborops.audit.models import ActionLogEntry
from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, JobRetry, job_kind
from harborops.core.models import JobRun


def _barrier(job: JobRun, point: str) -> None:
    """Tell the test we reached ``point``; hang there if the test asked us to on this attempt."""
    folder = Path(job.params["barrier_dir"])
    (folder / f"{point}-{job.attempts}").touch()
    if job.params.get("hang_at") == point and job.params.get("hang_attempt") == job.attempts:
        while True:  # until the test SIGKILLs this worker
            time.sleep(0.05)


@job_kind("test.effect_once", title="Test: side effect exactly once", max_attempts=3)
def effect_once(job: JobRun, log: JobLog) -> str:
    log.info(f"attempt {job.attempts} starting")
    _barrier(job, "before-effect")
    key = f"job-{job.pk}"
    with transaction.atomic():
        # Check before act: a retried attempt finds the effect done and does not repeat it.
        if not ActionLogEntry.objects.filter(action="test.effect", object_id=key).exists():
            record(actor=Actor.system("test"), action="test.effect", object_type="test.effect", object_id=key)
            log.info("effect written")
        else:
            log.info("effect already written by an earlier attempt")
    _barrier(job, "after-effect")
    return "effect done"


@job_kind("test.steps", title="Test: steps with progress", queue="periodic")
def steps(job: JobRun, log: JobLog) -> str:
    total = int(job.params.get("steps", 3))
    log.progress(0, total)
    for i in range(total):
        log.check_cancelled()
        log.info(f"step {i + 1} of {total}")
        log.progress(i + 1)
    if job.params.get("leak"):
        log.info(f"connecting with password={job.params['leak']}")
    if job.params.get("fail"):
        raise JobFailed(str(job.params["fail"]))
    if job.params.get("retry"):
        raise JobRetry("harbor unreachable", countdown=0)
    if job.params.get("crash"):
        raise RuntimeError(str(job.params["crash"]))
    return f"{total} steps done"


@job_kind("test.use_vault", title="Test: use a stored secret")
def use_vault(job: JobRun, log: JobLog) -> str:
    """Uses a decrypted secret carelessly: logs it, then crashes with it in the message."""
    import logging

    from tests.testapp.models import Vault

    secret = Vault.objects.get(pk=job.params["vault"]).secret
    log.info(f"connecting to harbor as admin:{secret}")
    logging.getLogger("harborops.test").warning("login with %s failed", secret)
    raise RuntimeError(f"harbor refused credentials {secret}")


@job_kind("test.long", title="Test: a long job that runs until the test releases it", queue="jobs", max_attempts=1)
def long_job(job: JobRun, log: JobLog) -> str:
    folder = Path(job.params["barrier_dir"])
    (folder / f"started-{job.pk}").touch()
    log.info("running until released")
    deadline = time.monotonic() + 170
    while not (folder / "release").exists():
        if time.monotonic() > deadline:
            raise JobFailed("never released")
        time.sleep(0.05)
    return "released"
