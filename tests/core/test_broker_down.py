"""Starting a job while the broker cannot be reached: the page answers (no 500), the job is kept, pending,
with a log line that says why, the action log has the request, and the reaper sends the job once the broker
answers again. tests/core/test_redis_outage.py does the same against a real redis-server stopped for 60 s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now
from kombu.exceptions import OperationalError

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.services import reap_stale_jobs
from harborops.core.models import JobLogLine, JobRun
from harborops.core.tasks import run_job
from tests.support import jobkinds  # noqa: F401  (the test.steps job kind)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]


def broker_down(*args: Any, **kwargs: Any) -> None:
    # What kombu raises once its publish retries are spent against a stopped Redis.
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize(("path", "action"), [("/fleet/sweep/", None), ("/events/ingest/", "events.ingest")])
def test_a_page_that_starts_a_job_answers_and_keeps_it_when_the_broker_is_down(
        bob: User, monkeypatch: pytest.MonkeyPatch, path: str, action: str | None) -> None:
    monkeypatch.setattr(run_job, "apply_async", broker_down)
    client = Client()
    client.force_login(bob)
    answer = client.post(path)
    job = JobRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    assert job.status == JobRun.Status.PENDING
    line = JobLogLine.objects.get(job=job)
    assert line.level == "warning" and "broker" in line.text and "Connection refused" in line.text
    assert "sent again automatically" in line.text
    assert "broker" in client.get(f"/jobs/{job.pk}/").content.decode()
    if action:  # what the view does after starting the job happened too
        assert ActionLogEntry.objects.filter(action=action).count() == 1

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(run_job, "apply_async", lambda **kwargs: sent.append(kwargs))  # the broker is back
    JobRun.objects.filter(pk=job.pk).update(heartbeat_at=now() - timedelta(minutes=5))
    assert reap_stale_jobs(stale_after=120).reenqueued == [job.pk]
    assert [s["args"] for s in sent] == [(job.pk,)]


def test_the_reaper_survives_a_broker_that_goes_down_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = now() - timedelta(minutes=5)
    jobs = [JobRun.objects.create(kind="test.steps", status=JobRun.Status.PENDING, max_attempts=1, heartbeat_at=stale)
            for _ in range(2)]
    monkeypatch.setattr(run_job, "apply_async", broker_down)
    assert sorted(reap_stale_jobs(stale_after=120).reenqueued) == [j.pk for j in jobs]  # went through every job
    assert all(JobRun.objects.get(pk=j.pk).status == JobRun.Status.PENDING for j in jobs)
    assert JobLogLine.objects.filter(level="warning", text__contains="broker").count() == 2
