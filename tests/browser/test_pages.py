"""Every page renders in a real browser with only local assets; screenshots for the README.

Set HARBOROPS_UPDATE_SCREENSHOTS=1 to write them to docs/screenshots/ (otherwise a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request, expect

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.models import JobLogLine, JobRun
from tests.browser.test_job_live import login
from tests.support.fixtures import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]


def populate(alice: User) -> JobRun:
    actor = Actor(user=alice, name="alice", request_id="4f2a9c", source_ip="10.20.0.15")
    make_user("vera", "viewer")
    make_user("bob", "operator")
    record(actor=actor, action="user.role", object_type="auth.user", object_id="3", object_repr="bob",
           before={"role": "viewer"}, after={"role": "operator"})
    record(actor=actor, action="token.create", object_type="core.apitoken", object_id="1",
           object_repr="grafana (hop_3b1f…)", after={"name": "grafana"})
    JobRun.objects.create(kind="fleet.sweep", status=JobRun.Status.SUCCEEDED, actor_name="beat", trigger="scheduled",
                          summary="12 instances swept")
    JobRun.objects.create(kind="maintenance.gc", status=JobRun.Status.FAILED, actor_name="bob",
                          target_repr="harbor-us-east-2", error="GC job 41 failed: registry read-only")
    job = JobRun.objects.create(kind="provisioning.install", status=JobRun.Status.RUNNING, actor_name="alice",
                                target_repr="10.0.3.21", progress_current=3, progress_total=7)
    texts = ["preflight: cpus 4 (ok), memory 8 GiB (ok), disk 120 GiB free (ok)", "docker 24.0.7 (ok)",
             "uploading harbor-offline-installer-v2.13.1.tgz (612 MB)", "sha256 verified", "./prepare"]
    JobLogLine.objects.bulk_create([JobLogLine(job=job, seq=i + 1, text=t) for i, t in enumerate(texts)])
    return job


def test_every_page_renders_with_local_assets_only(page: Page, live_server, alice: User):
    job = populate(alice)
    foreign: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(live_server.url) and not request.url.startswith("data:"):
            foreign.append(request.url)

    page.on("request", watch)
    out = REPO / "docs" / "screenshots" if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS") else None
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    if out:
        page.screenshot(path=str(out / "login.png"))
    login(page, live_server.url, "alice")
    pages = {
        "overview": ("/", "Overview"),
        "jobs": ("/jobs/", "Jobs"),
        "job-detail": (f"/jobs/{job.pk}/", "provisioning.install"),
        "action-log": ("/audit/actions/", "Action log"),
        "users": ("/users/", "Users"),
        "api-tokens": ("/account/tokens/", "API tokens"),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_contain_text(heading)
        if out:
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.locator("text=/api/jobs/").first).to_be_visible()
    if out:
        page.screenshot(path=str(out / "api-docs.png"))
    assert not foreign, f"pages loaded assets from elsewhere: {foreign}"


def test_an_admin_creates_a_user_and_gives_a_role(page: Page, live_server, alice: User):
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/users/")
    page.fill("#id_username", "dana")
    page.select_option("#id_role", "viewer")
    page.fill("#id_password", "a-long-enough-pass-42")
    page.click("text=Create user")
    expect(page.locator(".msg-success")).to_have_text("User dana created.")
    page.select_option("select[aria-label='role of dana']", "operator")
    page.locator("tr", has_text="dana").locator("text=Save").click()
    expect(page.locator(".msg-success")).to_have_text("dana is now operator.")


def test_a_user_creates_an_api_token_and_sees_it_once(page: Page, live_server, alice: User):
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/tokens/")
    page.fill("#id_name", "grafana")
    page.click("text=Create token")
    key = page.locator("#new-token-key").inner_text()
    assert key.startswith("hop_")
    page.reload()
    expect(page.locator("#new-token-key")).to_have_count(0)
    expect(page.locator("table")).to_contain_text("grafana")
