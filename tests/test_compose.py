"""docker-compose.yml is valid (Debian's docker-compose parses it; no Docker engine needed) and
has the services, health checks and volumes a deployment needs, configured only by environment."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.support.processes import REPO

pytestmark = pytest.mark.embedded

ENV = {"HARBOROPS_SECRET_KEY": "k" * 50, "HARBOROPS_SECRET_KEYS": "fernet-key",
       "HARBOROPS_ALLOWED_HOSTS": "harborops.example.org", "POSTGRES_PASSWORD": "pg-pass"}


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: apt-get install -y docker-compose (make test installs it)"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HARBOROPS_", "POSTGRES_"))}
    return subprocess.run([binary, "-f", str(REPO / "docker-compose.yml"), *args], cwd=REPO,
                          env={**base, **env}, capture_output=True, text=True, timeout=60)


def test_the_compose_file_is_valid_and_complete():
    result = compose("config", env=ENV)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://harborops:pg-pass@postgres:5432/harborops"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["HARBOROPS_PRODUCTION"] == "true"
    assert {"harborops-data", "postgres-data", "redis-data"} <= set(config["volumes"])
    assert services["postgres"]["volumes"] and services["redis"]["volumes"]


def test_the_compose_file_refuses_to_start_without_its_secrets():
    env = {k: v for k, v in ENV.items() if k != "HARBOROPS_SECRET_KEYS"}
    result = compose("config", "-q", env=env)
    assert result.returncode != 0 and "set HARBOROPS_SECRET_KEYS" in result.stderr
