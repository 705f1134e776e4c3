"""manage.py harbor_sim prints each instance's URL and credentials and serves the API."""

from __future__ import annotations

import re
import signal
import subprocess

import httpx

from tests.support.processes import REPO, VENV_BIN, free_port, subprocess_env, wait_for


def test_the_manage_command_serves_a_fleet(tmp_path):
    port = free_port()
    out = tmp_path / "out"
    with out.open("wb") as handle:
        proc = subprocess.Popen([str(VENV_BIN / "python"), "manage.py", "harbor_sim", "--instances", "2",
                                 "--port", str(port), "--version", "2.8.0,2.15.0"], cwd=REPO,
                                env=subprocess_env(DJANGO_SETTINGS_MODULE="harborops.settings"),
                                stdout=handle, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: out.read_text().count("Harbor12345") >= 2, timeout=60, what="the simulator to start")
        urls = re.findall(r"(http://127\.0\.0\.1:\d+/h/\d+)", out.read_text())
        assert len(urls) == 2
        info = httpx.get(f"{urls[1]}/api/v2.0/systeminfo", auth=("admin", "Harbor12345")).json()
        assert info["harbor_version"].startswith("v2.15.0")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
