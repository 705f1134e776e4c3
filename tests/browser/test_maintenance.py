"""In a real browser: an admin creates a GC policy for an HA pair and a third Harbor, runs it and
watches the per-instance steps go from waiting to succeeded live on the job page (the job runs in
a background thread, its GCs on simulated Harbors whose clock moves as the run polls)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import Page, expect

from harborops.core.jobs.runner import execute
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.clock import ManualClock
from harborops.harbor_sim.routes.artifacts import delete_artifact_by_ref, push_artifact
from harborops.maintenance.models import GCStep
from harborops.maintenance.services import online
from tests.browser.test_job_live import login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(120)]


class SlowTicker(online.Ticker):
    """Each poll waits a little real time (so the page shows the steps move) and 15 s of sim time."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(0.3)
        self.fleet.advance(seconds)


def run_in_background(job_id: int) -> None:
    def work() -> None:
        try:
            execute(job_id)
        finally:
            connection.close()

    threading.Thread(target=work, daemon=True).start()


def test_an_admin_creates_a_policy_and_watches_a_run(page: Page, live_server: Any, alice: User) -> None:
    from django.utils.timezone import now

    sim = Fleet.create(3, ["2.8.0", "2.13.0", "2.15.0"], clock=ManualClock(now()))
    for n, inst in enumerate(sim, start=1):
        push_artifact(inst, "library", "app", "old", n * 3 * 1024 * 1024)
        push_artifact(inst, "library", "app", "keep", 1000)
        delete_artifact_by_ref(inst, "library/app", "old", who="admin")
    with SimServer(sim) as server, mock.patch.object(online, "TICKER", SlowTicker(sim)), \
            mock.patch("harborops.core.tasks.run_job.apply_async",
                       side_effect=lambda args, **kw: run_in_background(args[0])):
        pair = HAGroup.objects.create(name="eu-pair", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
        for n in (1, 2, 3):
            Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345", ha_group=pair if n < 3 else None)
        page.set_viewport_size({"width": 1280, "height": 900})
        login(page, live_server.url, "alice")
        page.click("nav >> text=GC")
        expect(page.locator("h1")).to_contain_text("Garbage collection")
        page.click("text=New policy")
        page.fill("#id_name", "weekend")
        page.check("input[name=targets][value=listed]")
        page.check("label:has-text('harbor-1') input")
        page.check("label:has-text('harbor-3') input")
        page.fill("#id_cron", "0 2 * * 6")
        page.fill("#id_concurrency", "2")
        page.fill("#id_workers", "3")
        page.click("button:has-text('Save')")
        expect(page.locator("h1")).to_contain_text("GC policy weekend")
        # harbor-1's HA partner comes along; the pair is interleaved first
        expect(page.locator(".facts")).to_contain_text("harbor-1 (eu-pair), harbor-2 (eu-pair), harbor-3")
        page.click("#run-now")
        expect(page.locator("#gc-step-table")).to_be_visible()
        expect(page.locator("[data-instance='harbor-2'][data-status='pending']")).to_be_visible()
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        expect(page.locator("#gc-step-table [data-status='succeeded']")).to_have_count(3, timeout=10_000)
        expect(page.locator("[data-instance='harbor-3'] .freed")).to_contain_text("9.0")
        expect(page.locator("#job-log")).to_contain_text("[harbor-2] waiting: harbor-1 of HA group eu-pair")
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
            out = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
            page.screenshot(path=str(out / "gc-run.png"), full_page=True)
            page.goto(f"{live_server.url}/maintenance/")
            page.screenshot(path=str(out / "gc.png"), full_page=True)
        # the freed-bytes trend on the GC page and, with storage used before / after, on the instance page
        page.goto(f"{live_server.url}/maintenance/")
        expect(page.locator("#freed-trend rect.freed-bar")).to_have_count(3)
        page.goto(f"{live_server.url}/fleet/{Instance.objects.get(name='harbor-3').pk}/")
        expect(page.locator("#instance-freed-trend rect.freed-bar")).to_have_count(1)
        expect(page.locator("#gc-storage tr[data-status='succeeded']")).to_have_count(1)
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
            page.locator("#instance-gc").screenshot(path=str(out / "gc-instance.png"))
    one, two = (GCStep.objects.get(instance_name=f"harbor-{n}") for n in (1, 2))
    assert one.finished_at is not None and two.started_at is not None and one.finished_at <= two.started_at


def test_an_admin_adds_an_offline_registry_and_watches_its_gc(page: Page, live_server: Any, alice: User,
                                                              sshd: Any, tmp_path: Path) -> None:
    """Offline over the real sshd against a real docker-registry: the step log shows garbage-collect live."""
    import uuid

    from harborops.ssh.models import SSHHost
    from tests.maintenance.registry import INSTALL_HINT, REGISTRY_BIN, SKOPEO_BIN, start_registry
    from tests.support.sshd import REAL_HOST

    if not (Path(REGISTRY_BIN).exists() and Path(SKOPEO_BIN).exists()):
        pytest.skip(f"docker-registry or skopeo is not installed: {INSTALL_HINT}")
    registry = start_registry(sshd, f"gc-browser-{uuid.uuid4().hex[:8]}")
    try:
        registry.push(tmp_path, "team/app", "keep", 1024 * 1024)
        registry.push(tmp_path, "team/app", "old", 2 * 1024 * 1024)
        registry.delete("team/app", "old")
        SSHHost.objects.create(name="edge-host", address=REAL_HOST, port=sshd.port, username=sshd.user,
                               private_key=sshd.private_key, host_key=sshd.host_public_key)
        with mock.patch("harborops.core.tasks.run_job.apply_async",
                        side_effect=lambda args, **kw: run_in_background(args[0])):
            login(page, live_server.url, "alice")
            page.goto(f"{live_server.url}/maintenance/")
            page.click("a:has-text('Add')")
            page.fill("#id_name", "edge-registry")
            page.select_option("#id_host", label="edge-host")
            page.select_option("#id_stop_mode", "command")
            ctl = str(registry.dir / "registry-ctl")
            page.fill("#id_stop_command", f"{ctl} stop")
            page.fill("#id_start_command", f"{ctl} start")
            page.fill("#id_gc_command", "docker-registry garbage-collect")
            page.fill("#id_config_path", str(registry.dir / "config.yml"))
            page.fill("#id_storage_dir", str(registry.data))
            page.fill("#id_registry_url", registry.url)
            page.fill("#id_verify_refs", "team/app:keep")
            page.click("button:has-text('Save')")
            expect(page.locator("h1")).to_contain_text("Offline registry edge-registry")
            page.goto(f"{live_server.url}/maintenance/policies/add/")
            page.fill("#id_name", "edge")
            page.check("input[name=targets][value=listed]")
            page.check("label:has-text('edge-registry') input")
            page.click("button:has-text('Save')")
            page.click("#run-now")
            expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
            expect(page.locator("[data-instance='edge-registry'][data-status='succeeded']")).to_be_visible(
                timeout=10_000)
            expect(page.locator("#job-log")).to_contain_text("garbage-collect")
            expect(page.locator("#job-log")).to_contain_text("blob eligible for deletion")
            expect(page.locator("#gc-step-table")).to_contain_text("running and verified")
        assert registry.pulls(tmp_path, "team/app", "keep")
    finally:
        registry.stop()


def test_an_operator_cleans_up_untagged_artifacts_across_instances(page: Page, live_server: Any, bob: User) -> None:
    """Report → select → dry run → confirmation naming the instances → deletion job → results; the
    collection and both jobs run in background threads against simulated Harbors on a real socket."""
    from django.utils.timezone import now

    from harborops.maintenance.models import CleanupItem

    sim = Fleet.create(2, ["2.13.0", "2.15.0"], clock=ManualClock(now()))
    for inst in sim:
        push_artifact(inst, "library", "app", "1.0", 4 * 1024 * 1024)
        push_artifact(inst, "library", "app", "1.0", 6 * 1024 * 1024)  # the tag moves: 4 MB left untagged
        push_artifact(inst, "library", "app", None, 2 * 1024 * 1024)
    with SimServer(sim) as server, mock.patch("harborops.core.tasks.run_job.apply_async",
                                              side_effect=lambda args, **kw: run_in_background(args[0])):
        for n in (1, 2):
            Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345")
        page.set_viewport_size({"width": 1280, "height": 900})
        login(page, live_server.url, "bob")
        page.goto(f"{live_server.url}/maintenance/")
        page.click("#cleanup-link")
        expect(page.locator("h1")).to_contain_text("Clean-up report")
        page.click("#scan-now")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        page.goto(f"{live_server.url}/maintenance/cleanup/")
        expect(page.locator("#cleanup-rows tbody tr[data-repository='library/app']")).to_have_count(4)
        expect(page.locator("#untagged-projects")).to_contain_text("2 of 3")
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
            out = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
            page.screenshot(path=str(out / "cleanup-report.png"), full_page=True)
        page.check("#select-all")
        page.click("#dry-run")
        expect(page.locator("#plan-status")).to_have_text("Waiting for confirmation", timeout=60_000)
        expect(page.locator("#confirm-box")).to_contain_text(
            "4 items will be deleted on 2 instances: harbor-1, harbor-2")
        expect(page.locator("table.cleanup-items[data-instance='harbor-2'] tr[data-check='present']")
               ).to_have_count(2)
        assert sum(len(r.artifacts) for i in sim for r in i.store.repositories.values()) == 6  # nothing deleted
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
            page.screenshot(path=str(out / "cleanup-confirm.png"), full_page=True)
        page.click("#confirm-delete")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        expect(page.locator("#job-log")).to_contain_text("harbor-2: 2 deleted, 0 failed")
        page.click("#cleanup-plan-link")
        expect(page.locator("#plan-status")).to_have_text("Done")
        expect(page.locator("tr[data-result='deleted']")).to_have_count(4)
    assert CleanupItem.objects.filter(result="deleted").count() == 4
    for inst in sim:
        repo = next(iter(inst.store.repositories.values()))
        assert [a.size for a in repo.artifacts.values()] == [6 * 1024 * 1024]  # only the tagged one is left
