"""Plant one canary per secret type, then look for it everywhere a person or a log could see it:
every route of the role matrix as every persona, every API route with a token, the captured log
records, job logs and job errors. Later features add their secret types to ``plant``
(Harbor password, robot secret, SSH private key, CA private key, LDAP bind password)."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.access.models import DriftFinding, TeamMapping
from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.jobs.runner import execute
from harborops.core.models import ApiToken, JobLogLine, JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.installs.models import Install, Installer
from harborops.ssh.models import SSHHost
from tests.core.test_route_matrix import MATRIX
from tests.support import jobkinds  # noqa: F401
from tests.testapp.models import Vault

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

CANARIES = {
    "user password": "Canary-Passw0rd-7f3a9",
    "encrypted secret (Harbor password stand-in)": "Canary-Harbor-Secret-91bd",
    "Harbor instance password": "Canary-Instance-Pass-3c77",
    "HA pair robot secret": "Canary-Pair-Robot-Secret-d41e",
}


def plant(alice: User) -> dict[str, str]:
    """Put every secret type into harborops through the way a person would."""
    canaries = dict(CANARIES)
    admin = Client()
    admin.force_login(alice)
    r = admin.post("/users/", {"username": "carol", "role": "viewer", "password": canaries["user password"]})
    assert r.status_code == 302
    token_page = admin.post("/account/tokens/", {"name": "canary"}, follow=True)
    key = token_page.content.decode().split('<pre id="new-token-key">')[1].split("</pre>")[0]
    canaries["API token key"] = key
    vault = Vault.objects.create(name="eu-1", secret=canaries["encrypted secret (Harbor password stand-in)"])
    from unittest import mock

    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_job("test.use_vault", actor=Actor.system("pytest"), params={"vault": vault.pk})
    execute(job.pk)
    canaries["API token secret part"] = key.split("_", 2)[2]
    admin_api = APIClient()
    admin_api.force_login(alice)
    created = admin_api.post("/api/fleet/instances/", {
        "name": "eu-1", "url": "http://127.0.0.1:9/h/1", "username": "admin",
        "password": canaries["Harbor instance password"]}, format="json")
    assert created.status_code == 201
    check = admin_api.post("/api/fleet/instances/test-connection/", {
        "url": "http://127.0.0.1:9", "username": "admin", "password": canaries["Harbor instance password"]},
        format="json")
    assert check.status_code == 200 and check.json()["ok"] is False
    from harborops.fleet.tasks import sweep_chunk

    sweep_chunk([Instance.objects.get(name="eu-1").pk])  # fails (nothing listens): the error must not leak
    plant_ssh_key(admin_api, canaries)
    plant_ldap_bind_password(admin_api, canaries)
    plant_ca_keys(admin_api, canaries)
    plant_gc_run(admin_api)
    return canaries


def plant_replication(instance_id: int) -> dict[str, int]:
    """Replication rows on eu-1 (password a canary; nothing listens): the failing collection, the failed
    trigger / stop in the action log and the task-log fetch must not carry the password."""
    from unittest import mock

    from harborops.replication import services as repl
    from harborops.replication.models import Execution, FailedTask, Policy

    instance = Instance.objects.get(pk=instance_id)
    policy = Policy.objects.create(instance=instance, harbor_id=1, name="canary-repl", direction="push",
                                   trigger_type="manual")
    execution = Execution.objects.create(instance=instance, policy=policy, harbor_id=1, status="InProgress")
    task = FailedTask.objects.create(execution=execution, harbor_id=1, status="Failed")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        execute(repl.start_collect(actor=Actor.system("pytest")).pk)
    for action in (lambda: repl.trigger_policy(policy, actor=Actor.system("pytest")),
                   lambda: repl.stop_execution(execution, actor=Actor.system("pytest"))):
        with pytest.raises(repl.ActionFailed):
            action()
    # an HA pair's robot secret (kept encrypted for the peer's registry endpoint)
    from harborops.replication.models import HAPair, PairSide

    group, _ = HAGroup.objects.get_or_create(name="canary-ha")
    group.mode = HAGroup.Mode.TWO_WAY_REPLICATION
    group.save()
    pair = HAPair.objects.create(group=group, projects=["library"], status="set_up")
    PairSide.objects.create(pair=pair, instance=instance, robot_id=7, robot_name="robot$harborops-ha-canary",
                            robot_secret=CANARIES["HA pair robot secret"], registry_id=3, policy_id=4)
    return {"rpolicy": policy.pk, "rexecution": execution.pk, "rtask": task.pk}


def plant_gc_run(admin_api: APIClient) -> None:
    """A GC policy run on eu-1 (whose password is a canary; nothing listens): the failing step's
    message, log and the job must not carry the password."""
    from unittest import mock

    policy = admin_api.post("/api/maintenance/policies/", {"name": "canary-gc", "targets": "listed",
                                                            "instances": ["eu-1"], "harbor_cron": "0 0 3 * * 6"},
                            format="json")
    assert policy.status_code == 201, policy.content
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = admin_api.post(f"/api/maintenance/policies/{policy.json()['id']}/run/", {}, format="json")
        assert started.status_code == 202, started.content
        execute(started.json()["id"])
        schedules = admin_api.post(f"/api/maintenance/policies/{policy.json()['id']}/set-schedules/", {},
                                   format="json")
        execute(schedules.json()["id"])


def plant_ca_keys(admin_api: APIClient, canaries: dict[str, str]) -> None:
    """A CA imported with its private key, a generated CA, certificates they issue (keys generated here),
    both keys exported by an admin (logged), and a scan of an endpoint nothing listens on."""
    from unittest import mock

    from cryptography.hazmat.primitives import serialization

    from harborops.certificates.models import IssuedCertificate, ManagedCA
    from harborops.certificates.tasks import start_scan
    from tests.certificates import pki

    authority = pki.make_authority("Canary Root CA")
    key_pem = authority.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()
    canaries["CA private key (a line of it)"] = key_pem.splitlines()[1]
    imported = admin_api.post("/api/certificates/cas/import/", {
        "name": "canary-ca", "certificate": authority.pem, "private_key": key_pem}, format="json")
    assert imported.status_code == 201, imported.content
    created = admin_api.post("/api/certificates/cas/", {"name": "made-here", "key_type": "ecp256", "days": 30},
                             format="json")
    assert created.status_code == 201, created.content
    made_here = ManagedCA.objects.get(name="made-here").private_key
    canaries["generated CA private key (a line of it)"] = made_here.splitlines()[1]
    for ca in (imported.json()["id"], created.json()["id"]):
        issued = admin_api.post(f"/api/certificates/cas/{ca}/issue/", {
            "hostname": "harbor.example.invalid", "days": 10, "key_type": "ecp256"}, format="json")
        assert issued.status_code == 201, issued.content
        assert admin_api.post(f"/api/certificates/cas/{ca}/export-key/").status_code == 200
        assert admin_api.post(f"/api/certificates/issued/{issued.json()['id']}/export-key/").status_code == 200
    server_key = IssuedCertificate.objects.order_by("pk").first()
    assert server_key is not None
    canaries["issued server private key (a line of it)"] = server_key.private_key.splitlines()[1]
    admin_api.post("/api/certificates/endpoints/", {"label": "canary-tls", "host": "127.0.0.1", "port": 9},
                   format="json")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_scan(actor=Actor.system("pytest"))
    execute(job.pk)
    # A trust push to an SSH host nothing answers on: the job fails, the keys stay sealed.
    endpoint = admin_api.get("/api/certificates/endpoints/?label=canary-tls").json()["results"][0]
    assert admin_api.patch(f"/api/certificates/endpoints/{endpoint['id']}/", {"trust_ca": imported.json()["id"]},
                           format="json").status_code == 200
    pulling = admin_api.post("/api/certificates/pulling-hosts/", {
        "host": SSHHost.objects.get(name="ssh-1").pk, "runtime": "podman"}, format="json")
    assert pulling.status_code == 201, pulling.content
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        push = admin_api.post("/api/certificates/trust/push/", {}, format="json")
    assert push.status_code == 202, push.content
    execute(push.json()["id"])


def plant_ldap_bind_password(admin_api: APIClient, canaries: dict[str, str]) -> None:
    """harborops' LDAP bind password (HARBOROPS_LDAP_BIND_PASSWORD), used while the directory is down:
    a login, the group search, a mapping with an LDAP check, a drift check that expands nested groups."""
    from unittest import mock

    from django.test import override_settings

    from harborops.access.models import TeamMapping
    from harborops.access.tasks import start_drift_check
    from tests.support.slapd import unreachable_ldap_settings

    canaries["LDAP bind password"] = "Canary-Ldap-Bind-5e21"
    with override_settings(**unreachable_ldap_settings(canaries["LDAP bind password"])):
        assert Client().post("/login/", {"username": "ann", "password": "not-a-canary"}).status_code == 200
        assert admin_api.get("/api/access/mappings/ldap-groups/?q=team").status_code == 503
        assert admin_api.post("/api/access/mappings/", {
            "ldap_group_dn": "cn=team,ou=groups,dc=example,dc=org", "project_name": "team"},
            format="json").status_code == 400
        TeamMapping.objects.create(ldap_group_dn="cn=team,ou=groups,dc=example,dc=org", project_name="team",
                                   expand_nested=True)
        with mock.patch("harborops.core.tasks.run_job.apply_async"):
            drift_job = start_drift_check(actor=Actor.system("pytest"))
        execute(drift_job.pk)


def plant_ssh_key(admin_api: APIClient, canaries: dict[str, str]) -> None:
    """An SSH host with a passphrase-protected private key; a check job that fails to connect."""
    import subprocess
    import tempfile
    from pathlib import Path

    from harborops.ssh.tasks import start_check

    passphrase = "Canary-SSH-Passphrase-5e1d"
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", f"{d}/k"], check=True)
        key = Path(f"{d}/k").read_text()
    canaries["SSH private key (a line of it)"] = key.splitlines()[2]
    canaries["SSH key passphrase"] = passphrase
    created = admin_api.post("/api/ssh/hosts/", {"name": "ssh-1", "address": "127.0.0.1", "port": 9,
                                                 "username": "ops", "private_key": key,
                                                 "key_passphrase": passphrase}, format="json")
    assert created.status_code == 201, created.content
    from unittest import mock

    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_check(actor=Actor.system("pytest"), host=SSHHost.objects.get(name="ssh-1"))
    execute(job.pk)  # fails (nothing listens on port 9): neither key nor passphrase may leak
    plant_install(admin_api, canaries)


def plant_install(admin_api: APIClient, canaries: dict[str, str]) -> None:
    """An install with a given admin password, a TLS key and a generated database password; its job
    runs and fails to connect."""
    from unittest import mock

    SSHHost.objects.filter(name="ssh-1").update(host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1hdHJpeA==")
    canaries["install admin password"] = "Canary-Harbor-Admin-8c2f"
    canaries["install TLS private key"] = "Canary-TLS-Key-77aa"
    installer = admin_api.post("/api/installs/installers/", {
        "url": "https://mirror.example.invalid/harbor-offline-installer-v2.13.1.tgz", "checksum": "0" * 64},
        format="json")
    assert installer.status_code == 201, installer.content
    created = admin_api.post("/api/installs/", {
        "name": "canary-harbor", "installer": installer.json()["id"],
        "hosts": [{"host": SSHHost.objects.get(name="ssh-1").pk, "hostname": "harbor.example.invalid"}],
        "https_enabled": True, "tls_certificate": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
        "tls_private_key": "-----BEGIN PRIVATE KEY-----\n" + canaries["install TLS private key"] +
                           "\n-----END PRIVATE KEY-----", "admin_password": canaries["install admin password"]},
        format="json")
    assert created.status_code == 201, created.content
    canaries["generated database password"] = Install.objects.get(name="canary-harbor").db_password
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = admin_api.post(f"/api/installs/{created.json()['id']}/start/", {}, format="json")
    assert started.status_code == 202, started.content
    execute(started.json()["id"])


def test_no_canary_appears_anywhere(alice: User, bob: User, vera: User, caplog):
    caplog.set_level(logging.DEBUG)
    canaries = plant(alice)
    job = JobRun.objects.get(kind="test.use_vault")
    assert job.status == JobRun.Status.FAILED  # it really ran, and really crashed with the secret

    seen: list[str] = []

    def inspect(where: str, text: str) -> None:
        for name, value in canaries.items():
            if value in text:
                seen.append(f"{name} in {where}")

    objects = {"job": job.pk, "action": ActionLogEntry.objects.first().pk,  # type: ignore[union-attr]
               "other_user": User.objects.get(username="carol").pk,
               "own_token": ApiToken.objects.first().pk,  # type: ignore[union-attr]
               "instance": Instance.objects.get(name="eu-1").pk,
               "ssh_host": SSHHost.objects.get(name="ssh-1").pk,
               "hagroup": HAGroup.objects.get_or_create(name="canary-ha")[0].pk,
               "installer": Installer.objects.get().pk, "install": Install.objects.get().pk,
               "mapping": TeamMapping.objects.get().pk, "finding": DriftFinding.objects.first().pk}  # type: ignore[union-attr]
    from harborops.certificates.models import Certificate, Endpoint, IssuedCertificate, ManagedCA

    objects["endpoint"] = Endpoint.objects.get(label="canary-tls").pk
    objects["certificate"] = Certificate.objects.create(
        fingerprint="CA:NA", pem="-", subject="CN=c", issuer="CN=c", serial="1", not_before=job.created_at,
        not_after=job.created_at, signature_algorithm="x", key_type="EC").pk
    objects["ca"] = ManagedCA.objects.get(name="canary-ca").pk
    objects["issued"] = IssuedCertificate.objects.order_by("pk").values_list("pk", flat=True)[0]
    from harborops.certificates.models import PullingHost

    objects["pulling_host"] = PullingHost.objects.create(host_id=objects["ssh_host"], runtime="docker").pk
    from harborops.events.models import HarborEvent
    from harborops.maintenance.models import GCPolicy, GCStep

    objects["gcpolicy"] = GCPolicy.objects.get(name="canary-gc").pk
    objects["gcstep"] = GCStep.objects.get().pk
    from harborops.maintenance.models import OfflineTarget

    objects["offlinetarget"] = OfflineTarget.objects.create(
        name="canary-registry", host=SSHHost.objects.get(name="ssh-1"), stop_mode="systemd",
        systemd_unit="registry", config_path="/etc/registry/config.yml", storage_dir="/var/lib/registry",
        registry_url="http://127.0.0.1:9").pk
    objects["event"] = HarborEvent.objects.create(instance_id=objects["instance"], instance_name="eu-1",
                                                  source="audit-logs", harbor_id=1, op_time=job.created_at).pk
    objects.update(plant_replication(objects["instance"]))
    # Wrong passwords until a lockout: the attempted password must not show anywhere either.
    canaries["mistyped login password"] = "canary-mistyped-login-password-5e1f"
    for _ in range(5):
        Client().post("/login/", {"username": "vera", "password": canaries["mistyped login password"]})
    from harborops.core.models import LoginFailureCounter

    objects["lockout"] = LoginFailureCounter.objects.get(kind="username", key="vera").pk
    for user in (alice, bob, vera):
        client = Client()
        client.force_login(user)
        api = APIClient()
        api.force_login(user)
        for route, (template, _) in MATRIX.items():
            if route == "logout":  # would end the session of the crawl
                continue
            url = template.format(**objects)
            response = (api if url.startswith("/api/") else client).get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            inspect(f"GET {url} as {user.username}", body.decode(errors="replace"))
        inspect("/api/jobs/ log", api.get(f"/api/jobs/{job.pk}/log/").content.decode())
        gc_job = GCStep.objects.get().job_id  # a GC run's job page and step list show each instance's log
        for url in (f"/jobs/{gc_job}/", f"/maintenance/runs/{gc_job}/steps/", f"/api/jobs/{gc_job}/log/"):
            inspect(f"GET {url} as {user.username}", (api if url.startswith("/api/") else client).get(url)
                    .content.decode())
        inspect("/api/schema/", api.get("/api/schema/?format=json").content.decode())
        inspect("/api/action-log/?limit=500", api.get("/api/action-log/?limit=500").content.decode())

    for line in JobLogLine.objects.values_list("text", flat=True):
        inspect("a job log line", line)
    for j in JobRun.objects.all():
        inspect(f"job {j.pk} error/summary/params", f"{j.error} {j.summary} {j.params}")
    for entry in ActionLogEntry.objects.all():
        inspect(f"action log {entry.pk}", f"{entry.before} {entry.after} {entry.message} {entry.object_repr}")
    for record in caplog.records:
        inspect(f"log record {record.name}", record.getMessage() + (record.exc_text or ""))
    inspect("captured log text", caplog.text)

    assert not seen, "secrets leaked:\n" + "\n".join(seen)
    # The log line and the crash are there, only masked.
    assert JobLogLine.objects.filter(text="connecting to harbor as admin:********").exists()
    assert "harbor refused credentials ********" in job.error
