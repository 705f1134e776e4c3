"""The README's run command starts web, a worker per queue and beat on the embedded defaults; Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import REPO, VENV_BIN, free_port, wait_for

pytestmark = [pytest.mark.embedded, pytest.mark.worker, pytest.mark.timeout(300)]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _answers(web: httpx.Client, path: str) -> bool:
    try:
        return web.get(path).status_code == 200
    except httpx.TransportError:  # gunicorn still booting (a loaded machine)
        return False


def test_the_run_command_serves_login_with_workers_and_beat_and_stops_on_ctrl_c(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "HARBOROPS_ADMIN_PASSWORD", "DJANGO_SETTINGS_MODULE"}}
    env.update(HARBOROPS_DATA_DIR=str(tmp_path / "data"), HARBOROPS_PORT=str(port), HARBOROPS_REAPER_CRON="* * * * *")
    out_path = tmp_path / "run.out"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(["make", "run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(lambda: b"harborops is running at" in out_path.read_bytes(), timeout=240,
                 what=f"the run command to start (output in {out_path})", interval=0.5)
        text = out_path.read_text()
        assert f"http://127.0.0.1:{port}/" in text
        password = re.search(r"user: admin\s+password: (\S+)", text)
        assert password, text

        # Web: gunicorn serves the login page and static files (whitenoise), and logs in.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False, timeout=10) as web:
            wait_for(lambda: _answers(web, "/login/"), timeout=120, what="the login page")
            css = web.get("/static/css/harborops.css")
            assert css.status_code == 200 and "text/css" in css.headers["content-type"]
            login = web.get("/login/")
            token = web.cookies["csrftoken"]
            r = web.post("/login/", data={"username": "admin", "password": password.group(1),
                                          "csrfmiddlewaretoken": token}, headers={"Referer": str(login.url)})
            assert r.status_code == 302, r.text[:500]
            assert web.get("/").status_code == 200
            health = web.get("/healthz").json()
            assert health["database"]["vendor"] == "sqlite" and health["broker"]["transport"] == "filesystem"
            assert health["status"] == "ok"

        # Workers: one per queue, both answer a ping over the brokerless transport.
        def both_workers_answer() -> str:
            ping = subprocess.run([str(VENV_BIN / "celery"), "-A", "harborops", "inspect", "ping", "--timeout", "5"],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            return ping.stdout if "periodic@" in ping.stdout and "jobs@" in ping.stdout else ""

        pongs = str(wait_for(both_workers_answer, timeout=120, what="both workers to answer a ping", interval=1))
        assert pongs.count("pong") == 2, pongs

        # Beat: has synced the system schedules into its database tables.
        db = tmp_path / "data" / "harborops.sqlite3"

        def beat_synced() -> bool:
            with sqlite3.connect(db) as conn:
                rows = conn.execute("select name from django_celery_beat_periodictask "
                                    "where name like 'harborops: %'").fetchall()
            return len(rows) >= 1

        wait_for(beat_synced, timeout=60, what="beat to sync its schedule", interval=0.5)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            proc.wait(timeout=40)
        finally:
            deadline = time.monotonic() + 20
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            alive = _group_alive(proc.pid)
            if alive:
                os.killpg(proc.pid, signal.SIGKILL)
    assert not alive, "a process of the run command outlived Ctrl-C"
    assert "stopping harborops" in out_path.read_text()
