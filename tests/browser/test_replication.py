"""A person finds the failing and stuck replication policies of the fleet (in the list and in the topology
picture), reads a failed task's log (fetched from Harbor on demand) and, as operator, stops the stuck
execution after the warning; an admin sets up an HA pair, sees it healthy and rotates its robot secrets."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request, expect

from harborops.harbor_sim import push_artifact
from harborops.replication import services
from tests.browser.screenshots import shoot
from tests.browser.test_job_live import login
from tests.replication.conftest import SimFleet, sims  # noqa: F401 (fixture)
from tests.replication.test_collect import add_policy, endpoint, start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(120)]


def test_it_filters_reads_a_task_log_and_stops_a_stuck_run(
        page: Page, live_server, sims: SimFleet, bob: User) -> None:  # noqa: F811
    central = sims.instance(1, name="central")
    sims.instance(2, name="regional-2")  # in the fleet: drawn by name (their own policies are not collected here)
    sims.instance(3, name="regional-3")
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    start(sims, 1, add_policy(sims, 1, endpoint(sims, 1, 2), "to-regional-2"))
    sims.fleet[3].registry_fault = 503
    start(sims, 1, add_policy(sims, 1, endpoint(sims, 1, 3), "to-regional-3"))
    sims.fleet[1].jobs.set_outcome("replication", "hang", once=True)
    start(sims, 1, add_policy(sims, 1, endpoint(sims, 1, 2, name="bulk"), "bulk-sync"))
    sims.catch_up()
    services.collect_many([central])
    foreign: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(live_server.url) and not request.url.startswith("data:"):
            foreign.append(request.url)

    page.on("request", watch)
    login(page, live_server.url, "bob")
    page.click("nav.mainnav >> text=Replication")
    expect(page.locator("h1")).to_contain_text("Replication")
    expect(page.locator("#policy-rows tbody tr")).to_have_count(3)
    expect(page.locator("#policy-rows tbody tr").first).to_contain_text("bulk-sync")
    # the topology picture: three instances, three arrows coloured by health, each a link to its policy
    svg = page.locator("#topology-card svg.topology")
    expect(svg).to_be_visible()
    expect(svg.locator("g.node")).to_have_count(3)
    expect(svg.locator("a.edge")).to_have_count(3)
    expect(svg.locator("a.edge[data-health=failing] path").first).to_have_attribute("stroke", "#d93025")
    expect(svg.locator("a.edge[data-health=stuck] path").first).to_have_attribute("stroke", "#8e24aa")
    expect(page.locator("#attention")).to_contain_text("execution(s) stuck")
    shoot(page, "replication")
    page.click("#topology-card >> text=full size")
    expect(page.locator("#topology-edges tbody tr")).to_have_count(3)
    shoot(page, "replication-topology")
    page.locator("svg.topology a.edge[data-health=failing] text").first.click()  # the label on the arrow
    expect(page.locator("h1")).to_contain_text("to-regional-3")
    page.goto(f"{live_server.url}/replication/")

    page.select_option("select[name=health]", "failing")
    expect(page).to_have_url(re.compile(r"health=failing"))
    expect(page.locator("#policy-rows tbody tr")).to_have_count(1)
    page.click("#policy-rows >> text=to-regional-3")
    expect(page.locator("#policy-health")).to_have_text("Failing")
    page.locator("tr.failed-task button", has_text="Show log").click()
    expect(page.locator("pre.task-log")).to_contain_text("http status code: 503")

    page.goto(f"{live_server.url}/replication/?health=stuck")
    page.click("#policy-rows >> text=bulk-sync")
    page.click("text=Stop…")
    expect(page.locator("section.card")).to_contain_text("partial copy")
    page.click("#confirm-stop")
    expect(page.locator("#executions")).to_contain_text("Stopped")
    expect(page.locator("#policy-health")).not_to_have_text("Stuck")
    assert not foreign, f"requests left the server: {foreign}"


def test_an_admin_sets_up_a_pair_and_sees_it_consistent(
        page: Page, live_server, sims: SimFleet, alice: User, settings: Any) -> None:  # noqa: F811
    from unittest import mock

    from harborops.core.jobs.runner import execute
    from harborops.fleet.models import HAGroup

    settings.REPLICATION_PAIR_POLL_SECONDS = 0
    sims.catch_up()
    for n in (1, 2):
        sims.fleet[n].jobs.durations["replication"] = 0
    group = HAGroup.objects.create(name="eu", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
    sims.instance(1, ha_group=group, version="2.13.0")  # what the sweep reads from these simulators
    sims.instance(2, ha_group=group, version="2.8.0")
    push_artifact(sims.fleet[1], "library", "app", "v1", 10)
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/replication/")
    page.click("text=HA pairs")
    page.click("#pairs >> text=eu")
    page.fill("#pair-projects", "library")
    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=lambda args, **kw: execute(args[0])):
        page.click("#pair-setup")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded")
    expect(page.locator("#job-log")).to_contain_text("robot robot$harborops-ha-eu created")
    page.goto(f"{live_server.url}/replication/pairs/{group.pk}/")
    expect(page.locator("#pair-status")).to_have_text("Set up")
    expect(page.locator("#consistency")).to_contain_text("Both members hold the same artifacts")
    expect(page.locator("#loop-risks")).to_contain_text("Harbor skips it")
    expect(page.locator("#pair-checks .check-version_skew")).to_contain_text("Different minor versions")
    shoot(page, "replication-pair")
    page.click("#report-link")
    expect(page.locator("#report-total")).to_contain_text("Both members hold the same artifacts")
    expect(page.locator("#report-counts")).to_contain_text("library")
    # the fleet page draws the pair: two healthy arrows, one each way
    page.goto(f"{live_server.url}/replication/")
    pair_edges = page.locator("svg.topology a.edge[data-health=healthy]")
    expect(pair_edges).to_have_count(2)
    ends = {(pair_edges.nth(i).get_attribute("data-source"), pair_edges.nth(i).get_attribute("data-target"))
            for i in range(2)}
    assert {(b, a) for a, b in ends} == ends  # both directions
    # rotating the robots' secrets keeps the pair working
    page.goto(f"{live_server.url}/replication/pairs/{group.pk}/")
    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=lambda args, **kw: execute(args[0])):
        page.click("#pair-rotate")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded")
    expect(page.locator("#job-log")).to_contain_text("answers with the new secret")
