"""The ingest page and the jobs page say what needs attention (the events.* and jobs.* alert conditions),
without the alerts app: a stalled ingest and a failed job show, and the job's row leads to the job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from harborops.core.models import JobRun
from harborops.events.models import IngestState
from harborops.fleet.models import Instance
from tests.browser.test_job_live import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_viewer_sees_a_stalled_ingest_and_a_failed_job(page: Page, live_server, vera: User):
    at = dt.datetime.now(dt.UTC)
    inst = Instance.objects.create(name="eu-stalled", url="http://sim/1", username="admin", password="x")
    IngestState.objects.update_or_create(instance=inst, defaults={
        "last_run_at": at, "last_success_at": at - dt.timedelta(hours=2), "last_error": "HarborUnavailable: timeout"})
    job = JobRun.objects.create(kind="events.purge", status=JobRun.Status.FAILED, finished_at=at,
                                error="database is locked")
    login(page, live_server.url, "vera")
    page.goto(f"{live_server.url}/events/instances/")
    row = page.locator('#attention tr[data-condition="events.ingest_stalled"]')
    expect(row).to_contain_text("eu-stalled: no successful audit ingest for 2 h 0 min")
    expect(row).to_contain_text("HarborUnavailable: timeout")
    page.goto(f"{live_server.url}/jobs/")
    failed = page.locator('#attention tr[data-condition="jobs.failed"]')
    expect(failed).to_contain_text("database is locked")
    failed.locator("a").click()
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
