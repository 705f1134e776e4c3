"""Redis down for 60 s in the middle of a scheduled sweep and a running job, with the deployment's processes
as docker-compose runs them: gunicorn, a worker per queue (prefork), beat. A redis-server of the test's own
(its own port; no persistence, so a restart also loses every queued message) is stopped and started again.

What must hold: pages keep serving and a page that starts a job answers (no 500, no hang) and keeps the
job; the running job finishes; jobs whose messages died with Redis are sent again by the reaper; no JobRun
is lost or run twice; beat and the workers ride the outage out and the scheduled sweep picks up again."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from django.test import Client
from django.utils import timezone

from harborops.core.models import JobLogLine, JobRun
from harborops.core.roles import OPERATOR
from harborops.events.models import HarborEvent
from harborops.fleet.models import Instance, SweepRun
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.clock import Clock
from harborops.harbor_sim.faults import Faults, Latency
from harborops.schedule import SYSTEM_SCHEDULES
from tests.support.fixtures import make_user
from tests.support.processes import REPO, VENV_BIN, free_port, subprocess_env, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.worker,
              pytest.mark.timeout(480)]

OUTAGE_SECONDS = 60
PASSWORD = "Harbor12345"
LONG_BACKLOG = 25_000  # instance 1: a backfill that runs through the outage (100 events a page, 400-600 ms each)
SHORT_BACKLOG = 3_000  # instance 2: a backfill queued behind it when Redis goes down
KEPT_SCHEDULES = {"harborops.core.tasks.reap_stale_jobs", "harborops.fleet.tasks.sweep_fleet"}
PAGES = ("/", "/jobs/", "/fleet/", "/fleet/sweeps/status/", "/events/", "/events/instances/")


class RedisServer:
    """redis-server on a port of its own, without persistence: stop() loses everything it held."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=(self.folder / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=30, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        assert not self.answers()


class Stack:
    """The processes of the compose file, on the test database and the test's Redis. Like compose's
    ``restart: unless-stopped``, a process that exits is started again (and counted): a Celery worker can exit
    on a broker outage (kombu 5.7's Redis transport raises AttributeError while closing the lost connection)."""

    def __init__(self, folder: Path, broker: str) -> None:
        self.folder = folder
        self.env = subprocess_env(CELERY_BROKER_URL=broker, HARBOROPS_REDIS_KEY_PREFIX=f"outage-{uuid.uuid4().hex}:",
                                  HARBOROPS_JOB_HEARTBEAT_SECONDS="1", HARBOROPS_JOB_STALE_AFTER_SECONDS="10")
        # Beat keeps the sweep and the reaper (every minute, the defaults); nothing else runs in between.
        self.env.update({e.env: "disable" for e in SYSTEM_SCHEDULES if e.task not in KEPT_SCHEDULES})
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.cmds: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.restarts: dict[str, int] = {}
        self.web_port = free_port()

    def start(self, name: str, cmd: list[str], **env: str) -> None:
        self.cmds[name] = (cmd, env)
        self.procs[name] = subprocess.Popen(cmd, cwd=REPO, env={**self.env, **env},
                                            stdout=self.log(name).open("ab"), stderr=subprocess.STDOUT)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def up(self) -> None:
        celery = [str(VENV_BIN / "celery"), "-A", "harborops"]
        for queue, concurrency in (("periodic", "2"), ("jobs", "1")):  # the compose file's two workers
            self.start(f"worker-{queue}", [*celery, "worker", "-Q", queue, "--concurrency", concurrency, "-l", "INFO",
                                           "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"])
        self.start("beat", [*celery, "beat", "-l", "INFO", "-s", str(self.folder / "beat-schedule")])
        # The web answers with the test settings (static files without a collected manifest).
        self.start("web", [str(VENV_BIN / "gunicorn"), "harborops.wsgi", "-c", "tests/support/gunicorn_netguard.py",
                           "--bind", f"127.0.0.1:{self.web_port}", "--workers", "1", "--threads", "4"],
                   DJANGO_SETTINGS_MODULE="tests.settings")
        for name in ("worker-periodic", "worker-jobs"):
            wait_for(lambda name=name: self.alive() and " ready." in self.log(name).read_text(), timeout=120,
                     what=f"{name} to be ready ({self.log(name)})", interval=0.5)
        wait_for(lambda: self.alive() and self.web_answers(), timeout=120, what="gunicorn to serve", interval=0.5)

    def web_answers(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.web_port}/login/", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def alive(self) -> bool:
        """Restart what exited, as compose's restart policy does; web and beat must never need it."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                assert name.startswith("worker-"), f"{name} exited ({proc.returncode}): {self.log(name).read_text()}"
                self.restarts[name] = self.restarts.get(name, 0) + 1
                cmd, env = self.cmds[name]
                self.start(name, cmd, **env)
        return True

    def tails(self) -> str:
        return "\n".join(f"--- {n}.log\n{self.log(n).read_text()[-20000:]}" for n in self.procs)

    def down(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def harbors() -> Iterator[tuple[Fleet, SimServer]]:
    fleet = Fleet.create(3, "2.13.0", clock=Clock())
    fleet[1].seed_audit(LONG_BACKLOG, step_seconds=0.1)
    fleet[2].seed_audit(SHORT_BACKLOG, step_seconds=1)
    for n in (1, 2):  # at least 100 s for the long backfill, however fast the machine
        fleet[n].faults = Faults(latency=Latency("uniform", 400, 600), path_pattern="audit", seed=n)
    # A slow Harbor: each sweep polls it for a few seconds, so a sweep is running when Redis goes down.
    fleet[3].faults = Faults(latency=Latency("fixed", 1500), path_pattern="^/(health|systeminfo|statistics)")
    with SimServer(fleet) as server:
        yield fleet, server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Browser:
    """An operator's session against the real gunicorn (cookies, CSRF token, redirects by hand)."""

    def __init__(self, port: int, sessionid: str) -> None:
        # A connection per request, as a browser after a pause: no race with gunicorn closing idle keep-alives.
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, cookies={"sessionid": sessionid},
                                 limits=httpx.Limits(max_keepalive_connections=0))

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def start_job(self, path: str) -> tuple[httpx.Response, int]:
        """POST a page's "start" button; the answer redirects to the new job's page."""
        page = self.get("/fleet/")
        assert page.status_code == 200
        answer = self.http.post(path, data={"csrfmiddlewaretoken": self.http.cookies["csrftoken"]})
        match = re.fullmatch(r"/jobs/(\d+)/", answer.headers.get("location", ""))
        assert answer.status_code == 302 and match, (answer.status_code, answer.text[:2000])
        return answer, int(match.group(1))


def job(pk: int) -> JobRun:
    return JobRun.objects.get(pk=pk)


def test_a_60_second_redis_outage_loses_no_job_and_the_sweep_catches_up(
        tmp_path: Path, harbors: tuple[Fleet, SimServer], broker: RedisServer) -> None:
    fleet, sim = harbors
    instances = [Instance.objects.create(name=f"harbor-{n}", url=sim.instance_url(n), username="admin",
                                         password=PASSWORD) for n in (1, 2, 3)]
    client = Client()
    client.force_login(make_user("olga", OPERATOR))
    stack = Stack(tmp_path, broker.url)
    try:
        stack.up()
        browser = Browser(stack.web_port, client.cookies["sessionid"].value)

        # 1. Before: a long backfill running on the jobs worker, a second one queued behind it (its message
        #    waits in Redis), and beat's scheduled sweep polling the fleet.
        _, long_job = browser.start_job(f"/events/instances/{instances[0].pk}/backfill/")
        wait_for(lambda: job(long_job).status == JobRun.Status.RUNNING, timeout=60, what="the long backfill to run")
        _, queued_job = browser.start_job(f"/events/instances/{instances[1].pk}/backfill/")
        assert job(queued_job).status == JobRun.Status.PENDING
        polled = fleet[3].requests_served

        def sweep_polling() -> SweepRun | None:  # its chunk is polling the slow harbor-3 right now
            stack.alive()
            run = SweepRun.objects.filter(finished_at__isnull=True).first()
            return run if run is not None and fleet[3].requests_served > polled else None

        sweep = wait_for(sweep_polling, timeout=90, what="beat's scheduled sweep to poll the fleet", interval=0.05)
        assert isinstance(sweep, SweepRun)
        assert job(long_job).status == JobRun.Status.RUNNING and job(queued_job).status == JobRun.Status.PENDING

        # 2. Redis goes away for OUTAGE_SECONDS (and everything it held with it).
        broker.stop()
        down_at, progress_at_start = time.monotonic(), job(long_job).progress_current
        served = 0
        _, during_job = browser.start_job("/fleet/sweep/")  # "Sweep now": the page still answers
        assert job(during_job).status == JobRun.Status.PENDING
        note = JobLogLine.objects.filter(job_id=during_job, level="warning").values_list("text", flat=True).first()
        assert note and "broker" in note and "sent again automatically" in note, note
        job_page = browser.get(f"/jobs/{during_job}/")
        assert job_page.status_code == 200 and "broker" in job_page.text
        health = browser.get("/healthz")
        assert health.status_code == 503 and health.json()["broker"]["ok"] is False
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            for path in (*PAGES, f"/jobs/{long_job}/", f"/jobs/{long_job}/status/"):
                page = browser.get(path)
                assert page.status_code == 200, (path, page.status_code, page.text[:1000])
                served += 1
            stack.alive()
            time.sleep(2)
        # The sweep that was running finished without Redis, and so did (or does) the long job's work.
        assert SweepRun.objects.get(pk=sweep.pk).finished_at is not None
        assert job(long_job).progress_current > progress_at_start
        assert job(queued_job).status == JobRun.Status.PENDING  # its message died with Redis
        stack.alive()

        # 3. Redis is back, empty.
        broker.start()
        back_at = timezone.now()

        def finished() -> bool:
            stack.alive()
            return all(job(pk).is_finished for pk in (long_job, queued_job, during_job))

        wait_for(finished, timeout=240, interval=1, what=f"every job to finish after the outage (logs in {tmp_path})")
        wait_for(lambda: SweepRun.objects.filter(started_at__gte=back_at, finished_at__isnull=False).exists(),
                 timeout=120, interval=1, what="beat's next sweep after the outage")
    except BaseException:
        print(stack.tails())  # shown with the failure: the tmp folder may be gone by the time anyone looks
        raise
    finally:
        stack.down()

    runs = {j.pk: j for j in JobRun.objects.all()}
    assert set(runs) == {long_job, queued_job, during_job}  # nothing lost, nothing started twice
    assert {pk: j.status for pk, j in runs.items()} == dict.fromkeys(runs, JobRun.Status.SUCCEEDED), \
        {pk: j.error for pk, j in runs.items()}
    assert runs[queued_job].attempts == runs[during_job].attempts == 1
    # The long job ran through the outage; only if its worker process died under it did the reaper re-queue it.
    assert runs[long_job].attempts == 1 or (runs[long_job].attempts == 2 and stack.restarts.get("worker-jobs")
                                            and JobLogLine.objects.filter(job_id=long_job,
                                                                          text__contains="worker lost").exists())
    for n in (1, 2):
        assert HarborEvent.objects.filter(instance=instances[n - 1]).count() == len(fleet[n].audit_ext)
    assert re.search(r"[1-9]\d* pending re-sent", stack.log("worker-periodic").read_text())  # the reaper's doing
    assert "Couldn't apply scheduled task" in stack.log("beat").read_text()  # beat lived through failed ticks
    print(f"\nRedis down {OUTAGE_SECONDS} s: {served} page views served during it (all 200), 3 jobs, each succeeded "
          f"once (attempts: {[runs[pk].attempts for pk in (long_job, queued_job, during_job)]}), the sweep that was "
          f"running finished, beat's next sweep ran; worker processes restarted: {stack.restarts or 'none'}")
