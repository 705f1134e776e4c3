"""Rotation against managed hosts on the real sshd (tests/certificates/managed_host.py): the fixture
nginx really restarts with what ./prepare copied, so the served certificate really changes."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from harborops.audit.models import ActionLogEntry
from harborops.certificates.models import Deployment, DiskFile, Endpoint, IssuedCertificate, ManagedCA, Rotation
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import disk, rotation, scan
from harborops.certificates.services.endpoints import sync_instance_endpoints
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import HAGroup
from harborops.installs.models import Install
from tests.certificates.managed_host import ManagedHost
from tests.support.sshd import FAKE_HOSTS

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("pytest")


@pytest.fixture(autouse=True)
def _no_getcert(no_getcert: None) -> None:
    pass


@pytest.fixture
def ca(db: None) -> ManagedCA:
    return ca_services.create_ca(actor=ACTOR, name="corp", key_type="ecp256", days=365)


def issue(ca: ManagedCA, address: str, days: int = 30, *extra: str) -> IssuedCertificate:
    return ca_services.issue_certificate(ca, actor=ACTOR, hostname=address, sans=list(extra), days=days,
                                         key_type="ecp256")


@pytest.fixture
def hosts(managed_hosts: Callable[..., ManagedHost]) -> Callable[..., ManagedHost]:
    return managed_hosts


def served(host: ManagedHost) -> str:
    return rotation.served_fingerprint(host.address, host.port)[0]


def log_lines(job: JobRun) -> list[str]:
    return list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def run(deployment: Deployment) -> JobRun:
    assert deployment.job is not None
    execute(deployment.job.pk)
    deployment.refresh_from_db()
    job = JobRun.objects.get(pk=deployment.job.pk)
    return job


def test_rotation_uploads_prepares_recreates_and_the_served_certificate_really_changes(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca, FAKE_HOSTS[0])
    host = hosts(FAKE_HOSTS[0], old, name="rot-one")
    assert served(host) == old.fingerprint
    sync_instance_endpoints()
    scan.scan_all()
    new = issue(ca, FAKE_HOSTS[0], 60)
    first_pid = host.served_by_fixture_pid()

    deployment = rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=new)
    job = run(deployment)

    assert job.status == JobRun.Status.SUCCEEDED, log_lines(job)
    assert served(host) == new.fingerprint
    assert rotation.served_fingerprint(host.address, host.port)[1] == new.not_after.replace(microsecond=0)
    assert host.served_by_fixture_pid() != first_pid  # the container was recreated, not just the file changed
    assert deployment.status == Deployment.Status.SUCCEEDED
    member = deployment.members[0]
    assert (member["status"], member["old_fingerprint"], member["new_fingerprint"]) == (
        "succeeded", old.fingerprint, new.fingerprint)
    backup = Path(member["backup"])
    assert old.certificate.strip() in "".join(p.read_text() for p in backup.iterdir() if p.name.endswith(".crt"))
    key = host.cert_file.with_name("server.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.read_text() == new.private_key
    lines = "\n".join(log_lines(job))
    for step in ("backed up", "$ ./prepare", "$ docker compose down", "$ docker compose up -d", "verified"):
        assert step in lines
    endpoint = Endpoint.objects.get(instance=host.instance)
    history = Rotation.objects.filter(endpoint=endpoint).select_related("old", "new").first()
    assert history is not None and history.new.fingerprint == new.fingerprint
    assert history.old is not None and history.old.fingerprint == old.fingerprint
    cert_row = DiskFile.objects.get(target=host.target, kind=DiskFile.Kind.HTTPS_CERTIFICATE)
    assert cert_row.fingerprint == new.fingerprint and cert_row.matches_served is True
    assert DiskFile.objects.get(target=host.target, kind=DiskFile.Kind.HTTPS_PRIVATE_KEY).key_matches is True
    assert Install.objects.get(pk=host.install.pk).tls_certificate == new.chain_pem()
    assert ActionLogEntry.objects.filter(action="certificates.rotate", object_id=str(deployment.pk)).exists()


def test_rotation_points_harbor_yml_at_the_new_files_when_it_named_others(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca, FAKE_HOSTS[0])
    host = hosts(FAKE_HOSTS[0], old, name="rot-elsewhere")
    elsewhere = host.harbor_dir.parent / "yourdomain.com.crt"
    shutil.copy(host.cert_file, elsewhere)
    shutil.copy(host.cert_file.with_name("server.key"), elsewhere.with_suffix(".key"))
    yml = host.harbor_dir / "harbor.yml"
    yml.write_text(yml.read_text().replace(str(host.cert_file), str(elsewhere))
                   .replace(str(host.cert_file.with_name("server.key")), str(elsewhere.with_suffix(".key"))))
    shutil.chown(elsewhere, "harborops-ssh-test")
    shutil.chown(elsewhere.with_suffix(".key"), "harborops-ssh-test")
    new = issue(ca, FAKE_HOSTS[0], 45)

    job = run(rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=new))

    assert job.status == JobRun.Status.SUCCEEDED, log_lines(job)
    text = yml.read_text()
    assert f"certificate: {host.cert_file}" in text and "# The path of cert and key files for nginx" in text
    assert served(host) == new.fingerprint
    assert elsewhere.read_text() == old.chain_pem()  # the old files are left where they were


def test_a_failing_prepare_restores_the_old_certificate_and_the_job_says_so(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca, FAKE_HOSTS[0])
    host = hosts(FAKE_HOSTS[0], old, name="rot-fail")
    host.fail_next_prepare()
    new = issue(ca, FAKE_HOSTS[0], 60)

    deployment = rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=new)
    job = run(deployment)

    assert job.status == JobRun.Status.FAILED
    assert "restored" in job.error and "./prepare exited with 1" in job.error
    assert deployment.status == Deployment.Status.RESTORED
    assert deployment.members[0]["status"] == "restored"
    assert served(host) == old.fingerprint
    assert host.cert_file.read_text() == old.chain_pem()
    assert host.cert_file.with_name("server.key").read_text() == old.private_key
    lines = "\n".join(log_lines(job))
    assert "fixture fault" in lines and "restoring the previous files" in lines
    assert "restored the previous certificate" in lines
    assert Install.objects.get(pk=host.install.pk).tls_certificate == old.chain_pem()


def test_ha_members_rotate_one_at_a_time_and_the_second_waits_for_the_first_to_verify(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    group = HAGroup.objects.create(name="pair", hostname="harbor.test")
    old = issue(ca, "harbor.test", 30, *FAKE_HOSTS)
    a = hosts(FAKE_HOSTS[0], old, name="pair-a", ha_group=group)
    b = hosts(FAKE_HOSTS[1], old, name="pair-b", ha_group=group)
    new = issue(ca, "harbor.test", 60, *FAKE_HOSTS)

    deployment = rotation.start_rotation(actor=ACTOR, instance=b.instance, issued=new)
    job = run(deployment)

    assert job.status == JobRun.Status.SUCCEEDED, log_lines(job)
    assert [m["host"] for m in deployment.members] == [a.target.host.name, b.target.host.name]
    assert served(a) == served(b) == new.fingerprint
    lines = log_lines(job)
    a_verified = next(i for i, ln in enumerate(lines) if ln.startswith(f"[{a.target.host.name}] verified"))
    b_first = next(i for i, ln in enumerate(lines) if ln.startswith(f"[{b.target.host.name}]"))
    assert a_verified < b_first


def test_when_the_first_ha_member_fails_the_second_keeps_its_certificate(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    group = HAGroup.objects.create(name="pair", hostname="harbor.test")
    old = issue(ca, "harbor.test", 30, *FAKE_HOSTS)
    a = hosts(FAKE_HOSTS[0], old, name="pair-a", ha_group=group)
    b = hosts(FAKE_HOSTS[1], old, name="pair-b", ha_group=group)
    a.fail_next_prepare()
    b_pid = b.served_by_fixture_pid()
    new = issue(ca, "harbor.test", 60, *FAKE_HOSTS)

    deployment = rotation.start_rotation(actor=ACTOR, instance=a.instance, issued=new)
    job = run(deployment)

    assert job.status == JobRun.Status.FAILED
    assert [m["status"] for m in deployment.members] == ["restored", "skipped"]
    assert served(a) == served(b) == old.fingerprint
    assert b.served_by_fixture_pid() == b_pid  # never restarted
    assert not any(ln.startswith(f"[{b.target.host.name}] $") for ln in log_lines(job))


def test_renew_issues_the_same_sans_from_the_same_ca_and_rotates(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca, FAKE_HOSTS[0], 20, "harbor.test")
    host = hosts(FAKE_HOSTS[0], old, name="rot-renew")
    scan.scan_all()

    deployment = rotation.renew(actor=ACTOR, instance=host.instance)
    job = run(deployment)

    assert job.status == JobRun.Status.SUCCEEDED, log_lines(job)
    new = deployment.issued
    assert deployment.renewal_of == old and new.ca == ca and new.pk != old.pk
    assert (new.dns_names, new.ip_addresses, new.key_type) == (old.dns_names, old.ip_addresses, old.key_type)
    assert served(host) == new.fingerprint


def test_unmanaged_or_unrenewable_instances_are_refused_with_a_reason(ca: ManagedCA) -> None:
    from django.core.exceptions import ValidationError

    from harborops.fleet.models import Instance

    plain = Instance.objects.create(name="elsewhere", url="https://127.0.0.9", username="admin", password="x")
    with pytest.raises(ValidationError, match="not managed over SSH"):
        rotation.start_rotation(actor=ACTOR, instance=plain, issued=issue(ca, "127.0.0.9"))
    with pytest.raises(ValidationError, match="not managed over SSH"):
        rotation.renew(actor=ACTOR, instance=plain)
    assert not Deployment.objects.exists()


def test_files_over_ssh_show_a_renewed_file_without_prepare_as_a_finding(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    old = issue(ca, FAKE_HOSTS[0])
    host = hosts(FAKE_HOSTS[0], old, name="rot-files")
    scan.scan_all()
    disk.observe_all()
    row = DiskFile.objects.get(target=host.target, kind=DiskFile.Kind.HTTPS_CERTIFICATE)
    assert (row.fingerprint, row.matches_served) == (old.fingerprint, True)
    assert row.not_after is not None and abs((row.not_after - old.not_after).total_seconds()) < 1

    # Someone renews the file by hand and forgets ./prepare + restart; internal TLS is on too.
    renewed = issue(ca, FAKE_HOSTS[0], 90)
    host.cert_file.write_text(renewed.chain_pem())
    internal = host.harbor_dir.parent / "tls-internal"
    internal.mkdir()
    (internal / "harbor_internal_ca.crt").write_text(ca.certificate)
    (internal / "core.crt").write_text(renewed.certificate)
    yml = host.harbor_dir / "harbor.yml"
    yml.write_text(yml.read_text() + f"internal_tls:\n  enabled: true\n  dir: {internal}\n")
    shutil.chown(internal, "harborops-ssh-test")
    scan.scan_all()
    findings = disk.observe_all()

    row = DiskFile.objects.get(target=host.target, kind=DiskFile.Kind.HTTPS_CERTIFICATE)
    assert (row.fingerprint, row.served_fingerprint, row.matches_served) == (renewed.fingerprint, old.fingerprint,
                                                                             False)
    key = DiskFile.objects.get(target=host.target, kind=DiskFile.Kind.HTTPS_PRIVATE_KEY)
    assert key.key_matches is False  # the old key is still there, it does not belong to the new file
    inner = {Path(r.path).name: r for r in DiskFile.objects.filter(target=host.target, kind=DiskFile.Kind.INTERNAL_TLS)}
    assert set(inner) == {"harbor_internal_ca.crt", "core.crt"} and inner["core.crt"].not_after is not None
    assert findings == 2
    assert served(host) == old.fingerprint


def test_an_unreachable_managed_host_is_a_row_not_a_crash(ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    host = hosts(FAKE_HOSTS[0], issue(ca, FAKE_HOSTS[0]), name="rot-gone")
    ssh = host.target.host
    ssh.port = 1
    ssh.save()
    disk.observe_all()
    row = DiskFile.objects.get(target=host.target)
    assert "cannot read the files" in row.error


def test_a_second_rotation_waits_for_the_first_and_unmanaged_group_members_are_named(
        ca: ManagedCA, hosts: Callable[..., ManagedHost]) -> None:
    from django.core.exceptions import ValidationError

    from harborops.fleet.models import Instance

    group = HAGroup.objects.create(name="pair", hostname="harbor.test")
    old = issue(ca, "harbor.test", 30, *FAKE_HOSTS)
    host = hosts(FAKE_HOSTS[0], old, name="pair-a", ha_group=group)
    Instance.objects.create(name="pair-z", url="https://127.0.0.9", username="admin", password="x", ha_group=group)
    new = issue(ca, "harbor.test", 60, *FAKE_HOSTS)
    first = rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=new)
    with pytest.raises(ValidationError, match=f"rotation #{first.pk} of pair-a is still running"):
        rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=new)
    job = run(first)
    assert job.status == JobRun.Status.SUCCEEDED, log_lines(job)
    assert "pair-z is in the HA group but not managed over SSH: rotate it by hand" in log_lines(job)
    assert [m["host"] for m in first.members] == [host.target.host.name]
    second = rotation.start_rotation(actor=ACTOR, instance=host.instance, issued=old)  # allowed again
    assert second.pk != first.pk
