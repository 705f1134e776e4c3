"""Offline GC over a real sshd against a real distribution registry (Debian docker-registry, deletes
enabled): images pushed with skopeo from OCI layouts built here, manifests deleted through the
registry API, then the offline GC job — stop, garbage-collect, start, verify — and the proof on disk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest

from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.maintenance.models import GCStep, OfflineTarget
from harborops.maintenance.services import runs, targets
from harborops.ssh.models import SSHHost
from tests.maintenance.conftest import ACTOR, make_policy
from tests.maintenance.registry import INSTALL_HINT, REGISTRY_BIN, SKOPEO_BIN, Registry, start_registry
from tests.support.sshd import (
    REAL_HOST,
    SSHD,
    as_test_user,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded, pytest.mark.timeout(120)]
MB = 1024 * 1024


@pytest.fixture
def registry(sshd: SSHD) -> Iterator[Registry]:
    if not (Path(REGISTRY_BIN).exists() and Path(SKOPEO_BIN).exists()):
        pytest.skip(f"docker-registry or skopeo is not installed: {INSTALL_HINT}")
    reg = start_registry(sshd, f"gc-registry-{uuid.uuid4().hex[:8]}")
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def target(sshd: SSHD, registry: Registry) -> OfflineTarget:
    host = SSHHost.objects.create(name="registry-host", address=REAL_HOST, port=sshd.port, username=sshd.user,
                                  private_key=sshd.private_key, host_key=sshd.host_public_key)
    ctl = str(registry.dir / "registry-ctl")
    return targets.create_target(
        actor=ACTOR, name="edge-registry", host=host, stop_mode="command", stop_command=[ctl, "stop"],
        start_command=[ctl, "start"], gc_command=["docker-registry", "garbage-collect"],
        config_path=str(registry.dir / "config.yml"), storage_dir=str(registry.data), registry_url=registry.url,
        verify_refs=["team/app:keep"])


def run_policy(target: OfflineTarget, **options: object) -> JobRun:
    policy = make_policy(targets="listed", **options)
    policy.offline_targets.set([target])
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = runs.start_run(policy, actor=ACTOR)
    execute(job.pk)
    job.refresh_from_db()
    return job


def test_offline_gc_frees_disk_keeps_what_is_tagged_and_restarts(registry: Registry, target: OfflineTarget,
                                                                 tmp_path: Path) -> None:
    registry.push(tmp_path, "team/app", "keep", 1 * MB)
    registry.push(tmp_path, "team/app", "old", 3 * MB)
    registry.push(tmp_path, "team/gone", "v1", 2 * MB)
    old_layer = httpx.get(f"{registry.url}/v2/team/app/manifests/old",
                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()["layers"][0]
    registry.delete("team/app", "old")
    registry.delete("team/gone", "v1")
    before = registry.disk_bytes()
    assert httpx.head(f"{registry.url}/v2/team/app/blobs/{old_layer['digest']}").status_code == 200  # still there

    job = run_policy(target, dry_run_first=True)

    step = GCStep.objects.get(job=job)
    log = "\n".join(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))
    assert job.status == "succeeded", (job.error, log)
    assert step.status == "succeeded" and step.state_left == "running and verified"
    after = registry.disk_bytes()
    assert before - after >= 5 * MB, (before, after)
    assert step.freed_bytes is not None and step.freed_bytes >= 5 * MB and step.freed_source == "du"
    # the order of the sequence, live in the job log, with garbage-collect's own output
    for a, b in (("registry-ctl stop", "--dry-run"), ("--dry-run", "garbage-collect " + target.config_path),
                 ("registry stopped", "registry started"), ("registry started", "/v2/ answers 200")):
        assert log.index(a) < log.rindex(b), (a, b)
    assert "blob eligible for deletion" in log
    assert "verify: team/app:keep pulls" in log
    # deleted manifests' blobs are gone; the kept image still pulls; a push after the restart works
    assert httpx.head(f"{registry.url}/v2/team/app/blobs/{old_layer['digest']}").status_code == 404
    assert registry.pulls(tmp_path, "team/app", "keep")
    assert not registry.pulls(tmp_path, "team/app", "old")
    registry.push(tmp_path, "team/app", "new", 1 * MB)
    assert registry.pulls(tmp_path, "team/app", "new")


def test_a_failing_garbage_collect_still_restarts_the_registry(registry: Registry, target: OfflineTarget,
                                                               tmp_path: Path) -> None:
    registry.push(tmp_path, "team/app", "keep", 1 * MB)
    # hostile values reach the remote shell only quoted: garbage-collect gets them verbatim and fails
    canaries = [registry.dir / f"canary-{n}" for n in (1, 2, 3)]
    target.config_path = (f"{registry.dir}/no-such.yml; touch {canaries[0]} $(touch {canaries[1]}) "
                          f"`touch {canaries[2]}`")
    target.storage_dir = f"{registry.data}' ; touch '{canaries[0]}"
    target.save()
    job = run_policy(target, dry_run_first=False)
    step = GCStep.objects.get(job=job)
    assert not any(c.exists() for c in canaries)
    log = "\n".join(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))
    assert f"touch {canaries[1]}" in log  # shown, as the argument it was
    assert job.status == "failed" and step.status == "failed"
    assert "garbage-collect exited with status" in step.message
    assert "the registry was started again and answers" in step.message
    assert step.state_left == "running and verified"
    assert httpx.get(f"{registry.url}/v2/").status_code == 200 and registry.pulls(tmp_path, "team/app", "keep")


def test_a_registry_that_will_not_start_is_reported_as_stopped(registry: Registry, target: OfflineTarget) -> None:
    as_test_user("touch", str(registry.dir / "fail-start"))
    try:
        job = run_policy(target, dry_run_first=False)
        step = GCStep.objects.get(job=job)
        assert job.status == "failed" and step.status == "failed"
        assert step.state_left == "STOPPED: the start command failed"
        assert "start exited with status 3" in step.message and "registry state: STOPPED" in step.message
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{registry.url}/v2/", timeout=2)
    finally:
        as_test_user("rm", "-f", str(registry.dir / "fail-start"))
        registry.ctl("start")
        registry.wait_up()


def test_an_offline_target_is_checked_before_it_is_saved(db: None) -> None:
    from django.core.exceptions import ValidationError

    host = SSHHost.objects.create(name="h", address=REAL_HOST, port=22, username="u", private_key="k")
    with pytest.raises(ValidationError) as err:
        targets.create_target(actor=ACTOR, name="x", host=host, stop_mode="compose", config_path="/c",
                              storage_dir="/d", registry_url="http://127.0.0.1:5000", verify_refs=["no-tag"])
    assert set(err.value.message_dict) == {"compose_dir", "verify_refs"}
    assert not OfflineTarget.objects.exists()
