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
    return canaries


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
    from harborops.events.models import HarborEvent

    objects["event"] = HarborEvent.objects.create(instance_id=objects["instance"], instance_name="eu-1",
                                                  source="audit-logs", harbor_id=1, op_time=job.created_at).pk
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
