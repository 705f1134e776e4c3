"""Schemathesis against harborops' own OpenAPI schema, over HTTP, as an admin token and as a viewer token:
no answer is a 5xx, and every answer matches the schema (status code, content type, body).

The server is harborops' production web server (gunicorn, two workers) on the test database, started with
tests/support/gunicorn_netguard.py so the suite's network rule holds for whatever the fuzzer makes harborops
do (test a connection to a made-up URL, scan a made-up host): no real name resolves and nothing leaves
127.0.0.0/8. harborops' LDAP is the test slapd, so directory searches answer. The figures of a run are in the
README (REST API).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from harborops.core.models import ApiToken
from harborops.core.roles import ADMIN, VIEWER
from tests.support.fixtures import make_user
from tests.support.processes import REPO, VENV_BIN, free_port, stop, subprocess_env, wait_for
from tests.support.slapd import Slapd, slapd  # noqa: F401  (session fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.timeout(1500)]

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SEED = "20261202"


# The admin run takes every phase (the coverage phase's boundary values found the bugs this test fixed); the
# viewer's writes all answer 403, so its run is the examples and a short random phase.
@pytest.mark.parametrize(("role", "examples", "phases"), [(ADMIN, 10, "examples,coverage,fuzzing"),
                                                          (VIEWER, 5, "examples,fuzzing")])
def test_the_api_answers_every_fuzzed_request_as_its_schema_says(slapd: Slapd, tmp_path: Path,  # noqa: F811
                                                                   role: str, examples: int, phases: str) -> None:
    _, key = ApiToken.issue(make_user(f"fuzz-{role}", role), "fuzzing")
    (tmp_path / "prom").mkdir()
    port = free_port()
    env = subprocess_env(CELERY_BROKER_URL=settings.CELERY_BROKER_URL, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
                         **slapd.env("groupOfNames"))
    web = subprocess.Popen([str(VENV_BIN / "gunicorn"), "harborops.wsgi", "-c", "tests/support/gunicorn_netguard.py",
                            "--bind", f"127.0.0.1:{port}", "--workers", "2"], cwd=REPO, env=env,
                           stdout=(tmp_path / "web.log").open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def schema() -> dict[str, object] | None:
            try:
                answer = httpx.get(f"{base}/api/schema/?format=json", headers={"Authorization": f"Token {key}"},
                                   timeout=60)
            except httpx.TransportError:
                return None
            return answer.json() if answer.status_code == 200 else None

        spec = wait_for(schema, timeout=120, interval=0.5, what=f"gunicorn (log {tmp_path / 'web.log'})")
        (tmp_path / "schema.json").write_text(json.dumps(spec))
        run = subprocess.run(
            [str(VENV_BIN / "st"), "run", str(tmp_path / "schema.json"), "--url", base,
             "--header", f"Authorization: Token {key}", "--checks", CHECKS, "--max-examples", str(examples),
             "--seed", SEED, "--phases", phases, "--request-timeout", "30", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=1400, env=subprocess_env())
    finally:
        stop(web)
    out = run.stdout + run.stderr
    generated, tested = re.search(r"(\d+) generated", out), re.search(r"Tested: (\d+)", out)
    print(f"\n{role}: {generated.group(1) if generated else '?'} cases over "
          f"{tested.group(1) if tested else '?'} operations")
    assert run.returncode == 0, out[-20000:]
