from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_healthz_reports_database_and_broker():
    body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["broker"]["ok"]


def test_healthz_is_503_when_the_broker_is_down(settings, monkeypatch):
    from harborops.core.views import ops

    monkeypatch.setattr(ops, "_check_broker", lambda: "ConnectionRefusedError")
    r = Client().get("/healthz")
    assert r.status_code == 503 and r.json()["broker"] == {"ok": False, "transport": r.json()["broker"]["transport"],
                                                         "error": "ConnectionRefusedError"}


def test_metrics_counts_requests_and_jobs(vera):
    from harborops.core.models import JobRun

    JobRun.objects.create(kind="x", status=JobRun.Status.FAILED)
    client = Client()
    client.force_login(vera)
    series = 'harborops_http_requests_total{method="GET",status="200",view="core:job_list"} '

    def requests_counted() -> float:
        lines = [line for line in Client().get("/metrics").content.decode().splitlines() if line.startswith(series)]
        return float(lines[0].split()[-1]) if lines else 0.0

    before = requests_counted()
    for _ in range(3):
        assert client.get("/jobs/").status_code == 200
    assert requests_counted() == before + 3  # counted, one by one
    text = Client().get("/metrics").content.decode()
    assert 'harborops_jobs{status="failed"} 1.0' in text
    JobRun.objects.create(kind="x", status=JobRun.Status.FAILED)
    assert 'harborops_jobs{status="failed"} 2.0' in Client().get("/metrics").content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_metrics_aggregate_across_two_real_gunicorn_workers(tmp_path):
    """gunicorn with two workers in multiprocess mode: requests spread over both (the access log names the
    pid of each), and one scrape — served by either worker — counts every one of them."""
    import os
    import re
    import subprocess

    import httpx

    from tests.support.processes import REPO, VENV_BIN, database_url_of_test_db, free_port, stop, wait_for

    (tmp_path / "prom").mkdir()
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "DATABASE_URL": database_url_of_test_db(),
           "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    log = tmp_path / "access.log"
    web = subprocess.Popen([str(VENV_BIN / "gunicorn"), "harborops.wsgi", "-c", "harborops/gunicorn_conf.py",
                            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "1",
                            "--access-logfile", str(log), "--access-logformat", "pid=%(p)s %(r)s"],
                           cwd=REPO, env=env, stdout=(tmp_path / "web.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        last: list[str] = []

        def up() -> bool:
            assert web.poll() is None, f"gunicorn exited: {(tmp_path / 'web.log').read_text()[-3000:]}"
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5)
            except httpx.TransportError as exc:
                last[:] = [repr(exc)]
                return False
            last[:] = [f"{answer.status_code} {answer.text[:300]}"]
            return answer.status_code == 200

        try:
            wait_for(up, timeout=120, interval=0.5, what="gunicorn to serve")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last answer: {last}; log: {(tmp_path / 'web.log').read_text()[-3000:]}") \
                from None
        pids: set[str] = set()
        sent = 1  # the readiness request above counts too

        def both_workers_served() -> bool:
            nonlocal sent
            for _ in range(10):  # fresh connections: the kernel hands them to either worker
                httpx.get(f"http://127.0.0.1:{port}/login/", timeout=10)
                sent += 1
            pids.update(re.findall(r"pid=<?(\d+)>? GET /login/", log.read_text()))
            return len(pids) == 2

        wait_for(both_workers_served, timeout=120, interval=0, what="requests served by both workers")
        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        stop(web)
    served = re.search(r'harborops_http_requests_total\{method="GET",status="200",view="login"\} ([0-9.]+)', scrape)
    assert served, scrape[:3000]
    assert float(served.group(1)) == sent, (served.group(1), sent, pids)


def test_beat_health_needs_a_recent_reaper_dispatch():
    from datetime import timedelta

    from django.core.management import CommandError, call_command
    from django.utils.timezone import now
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from harborops.schedule import SYSTEM_PREFIX

    with pytest.raises(CommandError, match="not dispatched the reaper yet"):
        call_command("beat_health")
    task = PeriodicTask.objects.create(name=SYSTEM_PREFIX + "Reap jobs whose worker died", task="t",
                                       crontab=CrontabSchedule.objects.create(),
                                       last_run_at=now() - timedelta(minutes=10))
    with pytest.raises(CommandError, match="last dispatched the reaper 6"):
        call_command("beat_health")
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=now())
    call_command("beat_health")
