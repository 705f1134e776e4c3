"""The install job end to end against the real sshd, with the test installer and the docker shim
(tests/installs/fixtures.py) and a Harbor simulator standing in for the started Harbor."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
import yaml

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import Instance
from harborops.installs import services
from harborops.installs.models import STEPS, Install
from tests.installs.conftest import ACTOR
from tests.installs.fixtures import FILENAME
from tests.support.sshd import FAKE_HOSTS, REAL_HOST, SSHD, as_test_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def run(install: Install, from_step: str = "") -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = services.start_install(install, actor=ACTOR, from_step=from_step)
    execute(job.pk)
    job.refresh_from_db()
    install.refresh_from_db()
    return job


def log_of(job: JobRun) -> list[str]:
    return list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def calls(install: Install) -> list[str]:
    path = Path(install.harbor_dir) / "fixture-calls.log"
    return path.read_text().splitlines() if path.exists() else []


def test_it_installs_registers_and_a_second_run_is_a_noop(make_install: Callable[..., Install]):
    install = make_install()
    job = run(install)
    assert job.status == JobRun.Status.SUCCEEDED, (job.error, log_of(job)[-15:])
    target = install.targets.get()
    assert [target.step_status(s) for s in STEPS] == ["done"] * len(STEPS)
    lines = log_of(job)
    assert any("[Step 4]: starting Harbor ..." in line for line in lines)  # install.sh streamed live
    assert any("Generated configuration file: /compose_location/docker-compose.yml" in line for line in lines)
    # harbor.yml: the generated passwords went to the file, encrypted in the database, masked in the diff.
    conf = yaml.safe_load((Path(install.harbor_dir) / "harbor.yml").read_text())
    assert conf["harbor_admin_password"] == install.admin_password
    assert conf["database"]["password"] == install.db_password
    assert conf["hostname"] == FAKE_HOSTS[0] and "https" not in conf and conf["data_volume"] == install.data_volume
    assert "# The initial password of Harbor admin" in (Path(install.harbor_dir) / "harbor.yml").read_text()
    assert "+harbor_admin_password: ********" in target.config_diff
    assert install.admin_password not in target.config_diff and install.db_password not in target.config_diff
    assert not any(install.admin_password in line or install.db_password in line for line in lines)
    assert oct((Path(install.harbor_dir) / "harbor.yml").stat().st_mode & 0o777) == "0o600"
    # Registered in the fleet with working credentials.
    instance = Instance.objects.get(url=target.url)
    assert target.instance_id == instance.pk and instance.password == install.admin_password
    assert instance.labels["installed-by"] == "harborops"
    with instance.client() as harbor:
        assert harbor.health().healthy
    assert install.status == Install.Status.SUCCEEDED
    assert {"installs.install.create", "installs.install.start", "installs.install.succeeded",
            "fleet.instance.create"} <= set(ActionLogEntry.objects.values_list("action", flat=True))
    before = calls(install)
    assert before == ["prepare ", "install.sh ", "prepare "]

    again = run(install)
    assert again.status == JobRun.Status.SUCCEEDED
    assert any("every step is already done: nothing to do" in line for line in log_of(again))
    assert calls(install) == before
    assert Instance.objects.filter(url=target.url).count() == 1


def test_a_failure_is_retried_from_the_failed_step(make_install: Callable[..., Install], sshd: SSHD):
    install = make_install(name="harbor-retry")
    as_test_user("mkdir", "-p", install.install_dir)
    as_test_user("touch", str(Path(install.install_dir) / "fail-install-once"))  # fixture fault: install.sh fails once
    failed = run(install)
    assert failed.status == JobRun.Status.FAILED
    assert "install failed: ./install.sh exited with 1" in failed.error
    target = install.targets.get()
    assert [target.step_status(s) for s in STEPS] == ["done"] * 4 + ["failed", "pending", "pending"]
    assert install.status == Install.Status.FAILED
    assert any("fixture fault" in line for line in log_of(failed)), log_of(failed)[-8:]
    tgz = Path(install.install_dir) / FILENAME
    stamp = tgz.stat().st_mtime_ns
    calls_before = calls(install)

    retried = run(install)
    assert retried.status == JobRun.Status.SUCCEEDED, retried.error
    lines = log_of(retried)
    for step in ("preflight", "installer", "config", "prepare"):
        assert any(f"{step}: already done, skipped" in line for line in lines)
    # Zero installer bytes re-uploaded: the installer step did not run at all, the file is untouched.
    assert not any("sent " in line or "uploaded " in line for line in lines)
    assert tgz.stat().st_mtime_ns == stamp
    # The prepare step did not run again: only install.sh (which calls ./prepare itself) ran.
    assert calls(install) == [*calls_before, "install.sh ", "prepare "]
    assert Instance.objects.filter(name="harbor-retry").exists()


def test_rerunning_from_a_step_skips_the_upload(make_install: Callable[..., Install]):
    install = make_install(name="harbor-rerun")
    assert run(install).status == JobRun.Status.SUCCEEDED
    job = run(install, from_step="config")
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    lines = log_of(job)
    assert any("installer: already done, skipped" in line for line in lines)
    assert any("config: harbor.yml unchanged" in line for line in lines)
    assert any("register: already in the fleet as harbor-rerun" in line for line in lines)


def test_an_ha_pair_is_one_job_with_per_host_progress(make_install: Callable[..., Install]):
    install = make_install(addresses=FAKE_HOSTS, name="harbor-ha")
    job = run(install)
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert job.progress_total == 2 * len(STEPS) and job.progress_current == 2 * len(STEPS)
    names = set(Instance.objects.values_list("name", flat=True))
    assert {f"harbor-ha-host-{FAKE_HOSTS[0]}", f"harbor-ha-host-{FAKE_HOSTS[1]}"} <= names
    lines = log_of(job)
    assert any(line.startswith(f"[host-{FAKE_HOSTS[1]}] [Step 4]") for line in lines)


def test_hostile_values_reach_the_host_verbatim(make_install: Callable[..., Install], workdir: Path, sshd: SSHD):
    password = "Aa1'\"$(touch canary-31)`touch canary-32`;x"
    install = make_install(name="harbor-hostile", install_dir=str(workdir / "inst $(touch canary-30) 'q'"),
                           admin_password=password)
    job = run(install)
    assert job.status == JobRun.Status.SUCCEEDED, (job.error, log_of(job)[-10:])
    conf = yaml.safe_load((Path(install.harbor_dir) / "harbor.yml").read_text())
    assert conf["harbor_admin_password"] == password
    assert Instance.objects.get(name="harbor-hostile").password == password
    assert sorted(str(p) for p in sshd.home.rglob("canary-*")) == []


def test_preflight_runs_for_real_on_this_machine(make_install: Callable[..., Install], settings):
    settings.INSTALL_THRESHOLDS = "cpus=2:4,memory_gb=4:8,disk_gb=40:160"  # the documented defaults
    install = make_install(addresses=(REAL_HOST,), name="harbor-real")
    job = run(install)
    assert job.status == JobRun.Status.FAILED and "preflight failed" in job.error
    report = {c["name"]: c for c in install.targets.get().preflight}
    assert report["cpus"]["value"] == f"{os.cpu_count()} CPUs"
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    assert report["memory"]["value"] == f"{round(total * 1024 / 1024**3, 1):g} GB"
    assert report["docker"]["status"] == "fail"
    if shutil.which("docker", path="/usr/local/bin:/usr/bin:/bin"):  # a docker CLI without a daemon
        assert "daemon is not running" in report["docker"]["message"]
        assert "Cannot connect to the Docker daemon" in report["docker"]["message"]
    else:  # no Docker at all on this machine
        assert "Docker is not installed" in report["docker"]["message"]
    assert report["openssl"]["status"] == "pass" and report["ports"]["status"] == "pass"
    assert install.targets.get().step_status("preflight") == "failed"
    assert install.targets.get().step_status("installer") == "pending"  # fail stops the job



def test_an_https_install_copies_the_certificate_and_verifies_over_tls(make_install: Callable[..., Install],
                                                                      workdir: Path):
    from tests.installs.fixtures import self_signed
    from tests.support.processes import free_port

    cert, key = self_signed(FAKE_HOSTS[0])
    https_port = free_port(FAKE_HOSTS[0])
    install = make_install(name="harbor-tls", https_enabled=True, https_port=https_port, tls_certificate=cert,
                           tls_private_key=key, ca_bundle=cert)
    job = run(install)
    assert job.status == JobRun.Status.SUCCEEDED, (job.error, log_of(job)[-10:])
    conf = yaml.safe_load((Path(install.harbor_dir) / "harbor.yml").read_text())
    assert conf["https"] == {"port": https_port, "certificate": f"{install.install_dir}/cert/server.crt",
                             "private_key": f"{install.install_dir}/cert/server.key"}
    assert oct(Path(conf["https"]["private_key"]).stat().st_mode & 0o777) == "0o600"
    # The fixture prepare copied them under {data_volume}/secret/cert, as Harbor's does.
    assert (Path(install.data_volume) / "secret" / "cert" / "server.crt").read_text() == cert
    instance = Instance.objects.get(name="harbor-tls")
    assert instance.url == f"https://{FAKE_HOSTS[0]}:{https_port}" and instance.ca_bundle == cert
    assert not any("PRIVATE KEY-----\n" in line or key.splitlines()[1] in line for line in log_of(job))
