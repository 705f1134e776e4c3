"""An operator presses "Sweep all now": two real workers poll the chunks, the fleet page shows the
finished run (outcomes, chunk timings), and later flags it as stale when no sweep follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils.timezone import now
from playwright.sync_api import Page, expect

from harborops.fleet.models import Instance, SweepRun
from harborops.harbor_sim import Fleet, SimServer
from tests.browser.test_job_live import login
from tests.fleet.conftest import ADMIN_PASSWORD
from tests.support.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.fixture
def harbors() -> Iterator[SimServer]:
    with SimServer(Fleet.create(3, "2.13.0")) as server:
        yield server


def test_sweep_all_now_fans_out_and_the_fleet_page_shows_the_run(page: Page, live_server, alice: User,
                                                                 harbors: SimServer, tmp_path: Path):
    for n in (1, 2, 3):
        Instance.objects.create(name=f"harbor-{n}", url=harbors.instance_url(n), username="admin",
                                password=ADMIN_PASSWORD)
    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/fleet/")
    expect(page.locator("#sweep-status")).to_contain_text("none yet")
    logs = [tmp_path / f"periodic-{k}.log" for k in (1, 2)]
    workers = [start_worker(log, queues="periodic,jobs", HARBOROPS_SWEEP_CHUNK="2") for log in logs]
    try:
        for log in logs:
            wait_for(lambda log=log: log.exists() and b" ready." in log.read_bytes(), timeout=90,
                     what=f"worker ready ({log})")
        page.click("button:has-text('Sweep all now')")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        expect(page.locator("#job-log")).to_contain_text("3 instances swept (3 up)")
        expect(page.locator("#job-log")).to_contain_text("chunk 1: 1 instances on")
    finally:
        for worker in workers:
            stop(worker)
    page.click("nav >> text=Fleet")
    expect(page.locator("#sweep-outcome")).to_have_text("3 instances swept (3 up); 3 status changes")
    expect(page.locator("#sweep-status")).to_contain_text("sweep all now, 3 instances in 2 chunks")
    page.click("#sweep-status summary")
    expect(page.locator("#sweep-chunks tbody tr")).to_have_count(2)
    expect(page.locator("#sweep-stale")).to_have_count(0)

    SweepRun.objects.update(finished_at=now() - dt.timedelta(minutes=30))  # no sweep since: beat stopped
    page.reload()
    expect(page.locator("#sweep-stale")).to_contain_text("stale: older than 3 intervals")
