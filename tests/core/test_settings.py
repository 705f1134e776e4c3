from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from celery.schedules import crontab

from harborops.env import envbool, envint, envlist, envsecret
from harborops.schedule import SYSTEM_PREFIX, SYSTEM_SCHEDULES, ScheduleEntry, build_beat_schedule, parse_cron
from tests.support.processes import REPO, VENV_BIN

pytestmark = pytest.mark.embedded

# The production environment the README documents (HTTPS behind a reverse proxy).
PRODUCTION_ENV = {
    "HARBOROPS_PRODUCTION": "true",
    "HARBOROPS_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-" + "y" * 20,
    "HARBOROPS_SECRET_KEYS": "oIq8hJ1bqWfY1k5c0cM7vX4j2y3Z6r9t8u7w6e5q4a0=",
    "HARBOROPS_ALLOWED_HOSTS": "harborops.example.org",
    "HARBOROPS_CSRF_TRUSTED_ORIGINS": "https://harborops.example.org",
    "HARBOROPS_BEHIND_HTTPS_PROXY": "true",
    "HARBOROPS_SECURE_SSL_REDIRECT": "true",
    "HARBOROPS_SECURE_COOKIES": "true",
    "HARBOROPS_HSTS_SECONDS": "31536000",
    "HARBOROPS_HSTS_PRELOAD": "true",
    "DATABASE_URL": "postgres://harborops@127.0.0.1:5432/harborops",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def test_env_helpers(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert envbool("X_BOOL", False) is True and envbool("X_UNSET", True) is True
    assert envint("X_INT", 0) == 42 and envlist("X_LIST") == ["a", "b", "c"]
    assert envsecret("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ValueError, match="X_BOOL must be true or false"):
        envbool("X_BOOL", False)


@pytest.mark.parametrize(("env", "expected_names"), [
    ({}, {SYSTEM_PREFIX + e.name for e in SYSTEM_SCHEDULES}),
    ({"HARBOROPS_REAPER_CRON": "disable"},
     {SYSTEM_PREFIX + e.name for e in SYSTEM_SCHEDULES} - {SYSTEM_PREFIX + "Reap jobs whose worker died"}),
    ({"HARBOROPS_REAPER_CRON": "*/5 * * * *"}, {SYSTEM_PREFIX + e.name for e in SYSTEM_SCHEDULES}),
])
def test_the_beat_schedule_is_data_from_env(env: dict[str, str], expected_names: set[str]):
    schedule = build_beat_schedule(SYSTEM_SCHEDULES, env)
    assert set(schedule) == expected_names
    reaper = schedule.get(SYSTEM_PREFIX + "Reap jobs whose worker died")
    if reaper:
        assert reaper["options"] == {"expires": 50, "queue": "periodic"}
        minute = "*/5" if env.get("HARBOROPS_REAPER_CRON") else "*"
        assert reaper["schedule"] == crontab(minute=minute)


def test_a_bad_cron_is_a_clear_error():
    with pytest.raises(ValueError, match="5 fields"):
        build_beat_schedule([ScheduleEntry("x", "X_CRON", "* * *", "t", 1)], {})
    assert parse_cron("0 6 * * 1") == {"minute": "0", "hour": "6", "day_of_month": "*", "month_of_year": "*",
                                       "day_of_week": "1"}


@pytest.mark.django_db
def test_beat_start_disables_system_entries_removed_from_code():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from harborops.core.beat import disable_removed_system_entries

    cron = CrontabSchedule.objects.create()
    PeriodicTask.objects.create(name=SYSTEM_PREFIX + "Old entry", task="x", crontab=cron)
    PeriodicTask.objects.create(name=SYSTEM_PREFIX + "Kept", task="y", crontab=cron)
    PeriodicTask.objects.create(name="GC policy eu-1", task="z", crontab=cron)
    assert disable_removed_system_entries({SYSTEM_PREFIX + "Kept"}) == 1
    assert set(PeriodicTask.objects.filter(enabled=True).values_list("name", flat=True)) == {
        SYSTEM_PREFIX + "Kept", "GC policy eu-1"}


def test_embedded_sqlite_uses_wal_immediate_and_a_busy_timeout():
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        # On the PostgreSQL run, read the embedded settings in a clean process instead.
        code = ("from django.conf import settings; import json; "
                "print(json.dumps(settings.DATABASES['default']['OPTIONS']))")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        out = subprocess.run([str(VENV_BIN / "python"), "-c", f"import django; django.setup(); {code}"],
                             cwd=REPO, env={**env, "DJANGO_SETTINGS_MODULE": "harborops.settings"},
                             capture_output=True, text=True, check=True).stdout
        import json

        options = json.loads(out)
    else:
        options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    dropped = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if not k.startswith("HARBOROPS_") and k not in dropped}
    return subprocess.run([str(VENV_BIN / "python"), "manage.py", "check", *args], cwd=REPO,
                          env={**base, "DJANGO_SETTINGS_MODULE": "harborops.settings", **env},
                          capture_output=True, text=True)


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = _check(PRODUCTION_ENV, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("drop", "check_id"), [
    ("HARBOROPS_SECRET_KEY", "harborops.core.E001"),
    ("DATABASE_URL", "harborops.core.W001"),
    ("HARBOROPS_SECRET_KEYS", "harborops.core.W002"),
    ("CELERY_BROKER_URL", "harborops.core.W003"),
])
def test_dangerous_production_settings_are_flagged_with_stable_ids(drop: str, check_id: str):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != drop}
    result = _check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and check_id in result.stdout + result.stderr


def test_an_invalid_encryption_key_is_an_error():
    result = _check({"HARBOROPS_SECRET_KEYS": "not-a-fernet-key"})
    assert result.returncode != 0 and "harborops.core.E002" in result.stdout + result.stderr
