"""A person logs in and watches a job page update live (htmx polling, no reload)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from harborops.core.jobs.log import JobLog
from harborops.core.jobs.services import claim_job, finish_job
from harborops.core.models import JobRun
from tests.support.fixtures import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")


def test_it_logs_in_and_watches_a_job_update_live(page: Page, live_server, bob: User):
    job = JobRun.objects.create(kind="test.steps", actor_name="bob", target_repr="harbor-eu-1")
    login(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator("#job-status-label")).to_have_text("Pending")
    expect(page.locator("#job-log")).to_contain_text("No output yet.")

    attempt = claim_job(job.pk)
    assert attempt == 1
    log = JobLog(job, attempt=attempt)
    log.progress(1, 3)
    log.info("step 1 of 3: preflight ok")
    log.flush()
    expect(page.locator("#job-status-label")).to_have_text("Running")
    expect(page.locator("#job-log .line").first).to_have_text(re.compile("step 1 of 3: preflight ok"))
    expect(page.locator(".progress .label")).to_have_text("1 / 3")

    log.info("step 2 of 3: upload done")
    log.info("step 3 of 3: verified")
    log.progress(3)
    log.flush()
    finish_job(job, attempt=attempt, status=JobRun.Status.SUCCEEDED, summary="installed Harbor v2.13.1")
    expect(page.locator("#job-status-label")).to_have_text("Succeeded")
    expect(page.locator("#job-log .line")).to_have_count(3)
    expect(page.locator(".summary")).to_have_text("installed Harbor v2.13.1")
    # The poller stops by leaving out its trigger once the job has ended.
    expect(page.locator("#job-status")).not_to_have_attribute("hx-get", re.compile(".*"))
    assert page.locator("#job-log-empty").is_hidden()


def test_a_viewer_sees_no_cancel_button_and_an_operator_can_cancel(page: Page, live_server, bob: User,
                                                                   vera: User):
    job = JobRun.objects.create(kind="test.steps", actor_name="bob")
    login(page, live_server.url, "vera")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator("#job-status-label")).to_have_text("Pending")
    expect(page.locator("text=Cancel job")).to_have_count(0)  # a viewer reads the job, nothing more
    page.context.clear_cookies()
    login(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.click("text=Cancel job")
    expect(page.locator("#job-status-label")).to_have_text("Cancelled")
    assert JobRun.objects.get(pk=job.pk).status == JobRun.Status.CANCELLED
