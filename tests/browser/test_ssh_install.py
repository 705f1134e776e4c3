"""An admin adds an SSH host, accepts its key, uploads an installer, fills the install form,
watches the job stream, and finds the new Harbor in the fleet — in a real browser, against the
real sshd with the test installer (tests/installs/fixtures.py) and a Harbor simulator."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import Page, expect

from harborops.core.jobs.runner import execute
from harborops.fleet.models import Instance
from harborops.installs.models import Install
from tests.browser.screenshots import shoot
from tests.browser.test_job_live import login
from tests.installs.conftest import install_settings, installer_file, sims, sshd, workdir  # noqa: F401
from tests.installs.fixtures import SimStarter
from tests.support.processes import free_port
from tests.support.sshd import FAKE_HOSTS, SSHD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _run_in_thread(*args: Any, **kwargs: Any) -> None:
    """Stands in for the Celery worker: run the job in a thread of this process."""
    job_id = kwargs["args"][0]

    def work() -> None:
        try:
            execute(job_id)
        finally:
            connection.close()

    threading.Thread(target=work, daemon=True).start()


def test_an_admin_installs_harbor_over_ssh_and_finds_it_in_the_fleet(
        page: Page, live_server, alice: User, sshd: SSHD, install_settings, installer_file: Path,  # noqa: F811
        workdir: Path, sims: SimStarter):  # noqa: F811
    login(page, live_server.url, "alice")
    base = live_server.url

    # 1. The SSH host: added, its key shown, accepted.
    page.goto(f"{base}/ssh/add/")
    page.fill("#id_name", "harbor-fra-1")
    page.fill("#id_address", FAKE_HOSTS[0])
    page.fill("#id_port", str(sshd.port))
    page.fill("#id_username", sshd.user)
    page.fill("#id_private_key", sshd.private_key)
    page.click("main button[type=submit]")
    expect(page.locator("#key-state")).to_have_text("host key pending")
    expect(page.locator("#key-offered")).to_contain_text(sshd.host_key_fingerprint())
    page.click("#accept-key")
    expect(page.locator("#key-state")).to_have_text("host key accepted")
    expect(page.locator("#host-key")).to_contain_text(sshd.host_key_fingerprint())
    shoot(page, "ssh-host")
    page.goto(f"{base}/ssh/")
    expect(page.locator("h1")).to_contain_text("SSH hosts")
    shoot(page, "ssh-hosts")

    # 2. The installer, uploaded through the browser.
    page.goto(f"{base}/installs/")
    page.set_input_files("#upload-form input[name=installer]", str(installer_file))
    page.click("#upload-form button[type=submit]")
    expect(page.locator(f"tr[data-installer='{installer_file.name}']")).to_be_visible()

    # 3. The form, then the job streaming on the install page.
    port = free_port(FAKE_HOSTS[0])
    install_dir = workdir / "installer"
    sims.watch(install_dir / "harbor")
    page.goto(f"{base}/installs/new/")
    page.fill("#id_name", "harbor-fra")
    page.select_option("#id_installer", label=installer_file.name)
    page.check("input[name=hosts]")
    page.fill("#id_install_dir", str(install_dir))
    page.fill("#id_data_volume", str(workdir / "data"))
    page.fill("#id_http_port", str(port))
    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=_run_in_thread):
        page.click("#save-and-start")
        expect(page.locator("#job-log")).to_contain_text("[Step 4]: starting Harbor ...", timeout=60_000)
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("tr[data-step=register]")).to_have_attribute("data-status", "done")
    expect(page.locator("tr[data-step=preflight] .status")).to_have_text("done")
    page.locator("summary", has_text="harbor.yml diff").click()
    expect(page.locator("#config-diff-harbor-fra-1")).to_contain_text("+harbor_admin_password: ********")
    shoot(page, "install")
    install = Install.objects.get(name="harbor-fra")
    assert install.admin_password not in page.content()

    # 4. The new Harbor is in the fleet.
    page.click("#fleet-link-harbor-fra-1")
    expect(page.locator("h1")).to_contain_text("harbor-fra")
    assert Instance.objects.get(name="harbor-fra").url == f"http://{FAKE_HOSTS[0]}:{port}"
    expect(page).to_have_url(re.compile(r"/fleet/\d+/"))
    page.goto(f"{base}/installs/")
    expect(page.locator("h1")).to_contain_text("Harbor installs")
    shoot(page, "installs")
