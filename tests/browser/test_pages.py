"""Every page renders in a real browser with only local assets; screenshots for the README.

What the pages show comes from real flows (no staged rows): an admin creates the users and gives a role
through the users page, creates an API token, adds two SSH hosts (key scanned and accepted) and runs their
checks from the host page — real ``ssh.check`` jobs against the test sshd, one that succeeds and one that
fails (nothing listens). Set HARBOROPS_UPDATE_SCREENSHOTS=1 to write the screenshots to docs/screenshots/.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request, expect

from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.ssh import services as ssh
from harborops.ssh.models import SSHHost
from tests.browser.screenshots import shoot
from tests.browser.test_job_live import login
from tests.support.sshd import FAKE_HOSTS, SSHD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def populate(page: Page, base: str, sshd: SSHD) -> JobRun:
    """The admin (logged in on ``page``) does what an admin does on a first day; returns the successful check."""
    page.goto(f"{base}/users/")
    for username, role in (("bob", "viewer"), ("vera", "viewer")):
        page.fill("#id_username", username)
        page.select_option("#id_role", role)
        page.fill("#id_password", "a-long-enough-pass-42")
        page.click("text=Create user")
        expect(page.locator(".msg-success")).to_have_text(f"User {username} created.")
    page.select_option("select[aria-label='role of bob']", "operator")
    page.locator("tr", has_text="bob").locator("text=Save").click()
    expect(page.locator(".msg-success")).to_have_text("bob is now operator.")
    page.goto(f"{base}/account/tokens/")
    page.fill("#id_name", "grafana")
    page.click("text=Create token")
    expect(page.locator("#new-token-key")).to_be_visible()

    actor = Actor.system("pytest")
    for name, address, port in (("harbor-fra-1", FAKE_HOSTS[0], sshd.port), ("harbor-old", "127.0.0.1", 9)):
        host = ssh.create_host(actor=actor, name=name, address=address, port=port, username=sshd.user,
                               private_key=sshd.private_key)
        if port == sshd.port:
            scan = ssh.scan_host_key(host, actor=actor)
            ssh.accept_host_key(host, actor=actor, fingerprint=scan.fingerprint)
        else:  # a machine gone since its key was accepted: the check fails, as it would
            SSHHost.objects.filter(pk=host.pk).update(host_key=sshd.host_public_key, host_key_accepted_by="alice")
    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=lambda args, **kw: execute(args[0])):
        for name, outcome in (("harbor-old", "Failed"), ("harbor-fra-1", "Succeeded")):
            page.goto(f"{base}{SSHHost.objects.get(name=name).get_absolute_url()}")
            page.click("text=Run check")
            expect(page.locator("#job-status-label")).to_have_text(outcome)
    return JobRun.objects.filter(kind="ssh.check", status=JobRun.Status.SUCCEEDED).get()


def test_every_page_renders_with_local_assets_only(page: Page, live_server, alice: User, sshd: SSHD):
    foreign: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(live_server.url) and not request.url.startswith("data:"):
            foreign.append(request.url)

    page.on("request", watch)
    page.goto(f"{live_server.url}/login/")
    shoot(page, "login", full_page=False)
    login(page, live_server.url, "alice")
    job = populate(page, live_server.url, sshd)
    pages = {
        "overview": ("/", "Overview"),
        "jobs": ("/jobs/", "Jobs"),
        "job-detail": (f"/jobs/{job.pk}/", "ssh.check"),
        "action-log": ("/audit/actions/", "Action log"),
        "users": ("/users/", "Users"),
        "api-tokens": ("/account/tokens/", "API tokens"),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_contain_text(heading)
        shoot(page, name)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator("#job-log")).to_contain_text(f"connecting to {sshd.user}@{FAKE_HOSTS[0]}")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="alerts").first).to_be_visible()  # tags start collapsed
    page.locator(".opblock-tag", has_text="jobs").first.click()
    expect(page.locator(".opblock-summary-path", has_text="/api/jobs/{id}/cancel/")).to_be_visible()
    shoot(page, "api-docs", full_page=False)
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
