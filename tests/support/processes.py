"""Start real harborops processes (Celery workers, the run command) for wiring tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def database_url_of_test_db() -> str:
    """The test database as a DATABASE_URL, so a subprocess opens the very same database."""
    db = settings.DATABASES["default"]
    name = connection.settings_dict["NAME"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{name}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "PYTHONPATH": str(REPO),
           "DJANGO_SETTINGS_MODULE": "harborops.settings"}
    env.update(extra)
    return env


def start_worker(log_path: Path, *, queues: str = "periodic,jobs", **extra_env: str) -> subprocess.Popen[bytes]:
    """One Celery worker with the solo pool: the task runs in this very process, so SIGKILL
    on it kills the job mid-flight with nothing left behind to finish it."""
    cmd = [str(VENV_BIN / "celery"), "-A", "harborops", "worker", "-Q", queues, "-P", "solo",
           "-I", "tests.support.jobkinds", "--without-mingle", "--without-gossip", "--without-heartbeat",
           "-n", f"test-{uuid.uuid4().hex[:8]}@%h", "-l", "INFO"]
    log = log_path.open("ab")
    return subprocess.Popen(cmd, cwd=REPO, env=subprocess_env(**extra_env), stdout=log, stderr=subprocess.STDOUT)


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
