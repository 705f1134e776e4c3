"""Plant one canary per secret type, then look for it everywhere a person or a log could see it.

* The crawl: every route the URL resolver knows (not a list kept here: a route added later is crawled too),
  as the admin with every method of the role matrix, as the operator and the viewer with GET; each status
  checked against the role matrix (a 403 or 404 cannot hide a page nobody looked at), each body inspected.
* The answers to the planting POSTs: test connection, import, host key scan, forms shown again with errors.
* Captured log records, job logs, job errors and params, the action log.
* ``test_no_canary_in_a_real_workers_log``: the jobs that use secrets run in a real Celery worker process
  whose whole output (DEBUG) is searched.

Later features add their secret types to ``plant`` (Harbor password, robot secret, SSH private key and
passphrase, CA private key, LDAP bind password, …) and the objects their routes need to ``objects``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import Morsel
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
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
from tests.core.test_route_matrix import MATRIX, METHODS, PERSONAS
from tests.support import jobkinds  # noqa: F401
from tests.testapp.models import Vault

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

CANARIES = {
    "user password": "Canary-Passw0rd-7f3a9",
    "encrypted secret (Harbor password stand-in)": "Canary-Harbor-Secret-91bd",
    "Harbor instance password": "Canary-Instance-Pass-3c77",
    "HA pair robot secret": "Canary-Pair-Robot-Secret-d41e",
}


# Every response the planting gets back (a POST's body included: test connection, import, host key scan,
# a form shown again with its errors) is inspected at the end with everything else.
RESPONSES: list[tuple[str, str]] = []


def _body(response: Any) -> str:
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return raw.decode(errors="replace")


class RecordingClient(Client):
    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        RESPONSES.append((f"{request.get('REQUEST_METHOD')} {request.get('PATH_INFO')}", _body(response)))
        return response


class RecordingAPIClient(APIClient):
    def request(self, **kwargs: Any) -> Any:
        response = super().request(**kwargs)
        RESPONSES.append((f"{kwargs.get('REQUEST_METHOD')} {kwargs.get('PATH_INFO')}", _body(response)))
        return response


def plant(alice: User) -> dict[str, str]:
    """Put every secret type into harborops through the way a person would."""
    canaries = dict(CANARIES)
    admin = RecordingClient()
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
    admin_api = RecordingAPIClient()
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
    plant_cleanup(admin_api)
    plant_alert_channel(admin_api, canaries)
    plant_form_posts(admin, admin_api, canaries)
    return canaries


def plant_alert_channel(admin_api: APIClient, canaries: dict[str, str]) -> None:
    """A webhook channel: its HMAC secret and its URL (Slack-style, a token in the path); an alert
    routed to it and a delivery that fails (nothing listens) with the URL in play."""
    from harborops.alerts.models import Notification
    from harborops.alerts.services import lifecycle
    from harborops.alerts.services.delivery import deliver
    from harborops.core.conditions import Evaluation, Occurrence

    canaries["alert webhook HMAC secret"] = "Canary-Webhook-Hmac-6b0d"
    canaries["alert webhook URL token"] = "Canary-Hook-Token-2f9c"
    created = admin_api.post("/api/alerts/channels/", {
        "name": "canary-hook", "kind": "webhook", "webhook_format": "slack",
        "url": f"http://127.0.0.1:9/services/{canaries['alert webhook URL token']}",
        "secret": canaries["alert webhook HMAC secret"]}, format="json")
    assert created.status_code == 201
    assert admin_api.post("/api/alerts/routes/", {"name": "canary-route", "is_default": True,
                                                  "channels": ["canary-hook"]}, format="json").status_code == 201
    from django.utils.timezone import now

    lifecycle.reconcile(Evaluation([Occurrence("fleet.instance_down", "instance:0", "critical", "canary down")], {}),
                        now())
    for n in Notification.objects.all():
        deliver(n.pk)  # fails: connection refused


def plant_form_posts(admin: Client, admin_api: APIClient, canaries: dict[str, str]) -> None:
    """The POSTs whose answers echo what was sent or what a connection said: test connection (page and API),
    import (a row that fails and a row that would pass, page and API), forms shown again with an error after a
    secret was typed, host key scans of a host nothing answers on. Their bodies are inspected at the end."""
    password = canaries["Harbor instance password"]
    canaries["imported instance password"] = "Canary-Import-Pass-6d0b"
    instance = Instance.objects.get(name="eu-1")
    for url in ("/fleet/test-connection/", f"/fleet/{instance.pk}/test-connection/"):
        r = admin.post(url, {"url": "http://127.0.0.1:9", "username": "admin", "password": password})
        assert r.status_code == 200 and b"127.0.0.1:9" in r.content, r.content  # the check really ran
    r = admin.post(f"/fleet/{instance.pk}/test-connection/", {"url": "http://127.0.0.1:9", "username": "admin"})
    assert r.status_code == 200  # blank password: the stored one is used, and must not come back
    r = admin_api.post("/api/fleet/instances/test-connection/", {
        "url": "not a url", "username": "admin", "password": password}, format="json")
    assert r.status_code == 400
    csv = ("name,url,username,password\n"
           f"eu-imported,http://127.0.0.1:9/h/7,admin,{canaries['imported instance password']}\n"
           f"eu-broken,not-a-url,admin,{canaries['imported instance password']}\n")
    for dry_run in ("on", ""):
        r = admin.post("/fleet/import/", {"text": csv, "format": "csv", "dry_run": dry_run})
        assert r.status_code == 200 and b"eu-broken" in r.content, r.content
    r = admin_api.post("/api/fleet/instances/import/", {"content": csv, "format": "csv", "dry_run": True},
                       format="json")
    assert r.status_code == 400 and "eu-broken" in r.content.decode(), r.content
    # A form shown again (the name is taken) after the secrets were typed into it.
    r = admin.post("/fleet/add/", {"name": "eu-1", "url": "http://127.0.0.1:9/h/1", "username": "admin",
                                   "password": password, "credential_kind": "user"})
    assert r.status_code == 200 and b"already exists" in r.content, r.content
    host = SSHHost.objects.get(name="ssh-1")
    key_text = host.private_key
    r = admin.post("/ssh/add/", {"name": "ssh-1", "address": "127.0.0.1", "port": 22, "username": "ops",
                                 "role": "harbor", "private_key": key_text, "key_passphrase": host.key_passphrase})
    assert r.status_code == 200 and b"already exists" in r.content, r.content
    r = admin.post("/users/", {"username": "carol", "role": "viewer", "password": canaries["user password"]})
    assert r.status_code == 200 and b"exists" in r.content, r.content
    for response in (admin.post(f"/ssh/{host.pk}/scan-key/", follow=True),
                     admin_api.post(f"/api/ssh/hosts/{host.pk}/scan-key/", {}, format="json")):
        assert response.status_code == 200 and b"127.0.0.1:9 refused" in response.content, response.content


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


def plant_cleanup(admin_api: APIClient) -> None:
    """A clean-up report collection and a clean-up's dry run on eu-1 (password a canary; nothing
    listens): the scan's error, the items' messages and both jobs must not carry the password."""
    from unittest import mock

    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        scan = admin_api.post("/api/maintenance/cleanup/untagged/scan/", {}, format="json")
        assert scan.status_code == 202, scan.content
        execute(scan.json()["id"])
        plan = admin_api.post("/api/maintenance/cleanup/plans/", {"add_items": [
            {"instance": "eu-1", "kind": "tag", "repository": "library/app", "reference": "1.0"}]}, format="json")
        assert plan.status_code == 201, plan.content
        execute(plan.json()["dry_run_job"])


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
    admin_api.post("/api/certificates/endpoints/", {"label": "canary-tls", "host": "127.0.0.9", "port": 9},
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


def test_the_api_has_no_format_suffix_urls():
    """``/api/fleet/instances.json`` twins of every API route served no purpose (``?format=`` and the Accept
    header choose the renderer) and answered 500 on actions that take no ``format`` argument: removed. A router
    added later without ``include_format_suffixes = False`` fails here (and its twins would be crawled)."""
    twins = [r.name for r in every_route() if r.suffix]
    assert not twins, f"format-suffix routes (set router.include_format_suffixes = False): {sorted(set(twins))}"


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, as in the role matrix
    suffix: bool  # a DRF format-suffix variant of the route (``/api/fleet/instances.json``)


def every_route() -> list[Route]:
    """Every URL pattern the resolver knows, read from it (not from the matrix): a route added later is
    crawled without anyone listing it here, and each DRF format-suffix pattern is one more route."""
    found: list[Route] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            else:
                assert p.name, f"an unnamed route cannot be in the role matrix: {p.pattern}"
                found.append(Route(prefix + p.name, "format" in p.pattern.regex.groupindex))

    walk(get_resolver().url_patterns, "")
    return found


def suffixed(url: str, fmt: str) -> str:
    return (url[:-1] if url.endswith("/") else url) + "." + fmt


# The canary plant differs from the role matrix's objects: where a status must differ, it is here with why.
# (route, method, persona): status
HERE: dict[tuple[str, str, str], str] = {
    # ssh-1 is a target of the install canary-harbor: removing it is refused (the matrix's host is unused)
    ("ssh-api:host-detail", "DELETE", "alice"): "400",
    # a CA to trust and a pulling host exist here: the push starts (the matrix has nothing to push)
    ("certificates-api:trust-push", "POST", "alice"): "202",
    # an HA pair is set up here: its teardown and check start (the matrix's group has no pair)
    ("replication-api:pair-teardown", "POST", "alice"): "202",
    ("replication-api:pair-check", "POST", "alice"): "202",
}
# Answers whose purpose is to hand one secret to the admin who asked for it (POST only, audited): a key export.
# Only those secrets, only there; everywhere else the same secrets are canaries like any other.
CA_KEYS = frozenset({"CA private key (a line of it)", "generated CA private key (a line of it)"})
SERVER_KEYS = frozenset({"issued server private key (a line of it)"})
SHOWN_BY_DESIGN: dict[str, frozenset[str]] = {
    "certificates:ca_export_key": CA_KEYS, "certificates-api:ca-export-key": CA_KEYS,
    "certificates:issued_bundle": SERVER_KEYS, "certificates-api:issued-export-key": SERVER_KEYS,
}
CRAWL_METHODS = {"alice": METHODS, "bob": ("GET",), "vera": ("GET",)}  # the admin: every method


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def crawl(users: dict[str, User], objects: dict[str, int], inspect: Callable[..., None]) -> int:
    """Request every route (and its format-suffix variants) as each persona, check the status against the
    role matrix (so a 403 or 404 cannot hide a page nobody looked at), and inspect every body. Each request
    runs in a savepoint rolled back afterwards: a DELETE or a POST leaves the plant as it was."""
    requested, failures = 0, []
    clients = {persona: logged_in(user) for persona, user in users.items()}
    for route in every_route():
        assert route.name in MATRIX, f"{route.name} is missing from the role matrix (tests/core/test_route_matrix.py)"
        template, expected = MATRIX[route.name]
        try:
            url = template.format(**objects)
        except KeyError as exc:
            raise AssertionError(f"{route.name}: add an object for {exc} to this test's plant") from None
        urls = [(suffixed(url, fmt), fmt) for fmt in ("json", "api")] if route.suffix else [(url, "")]
        for target, fmt in urls:
            if fmt:  # really the suffix pattern, not some other route that happens to match
                match = resolve(target)
                assert (match.view_name, match.kwargs.get("format")) == (route.name, fmt), (target, match)
            for persona, user in users.items():
                for method in CRAWL_METHODS[persona]:
                    if fmt == "api" and method != "GET":
                        continue  # the browsable API renders the same answer as .json does
                    client = clients[persona]
                    with transaction.atomic():
                        response = getattr(client, method.lower())(target)
                        body = _body(response)
                        transaction.set_rollback(True)
                    requested += 1
                    if not client.cookies.get(settings.SESSION_COOKIE_NAME, Morsel()).value:  # logged out
                        clients[persona] = logged_in(user)
                    want = HERE.get((route.name, method, persona),
                                    expected[method].split()[PERSONAS.index(persona)])
                    if str(response.status_code) != want:
                        failures.append(f"{method} {target} as {persona}: {response.status_code}, expected {want}: "
                                        f"{body[:300]}")
                    inspect(f"{method} {target} as {persona}", body, SHOWN_BY_DESIGN.get(route.name, frozenset()))
    assert not failures, "statuses differ from the role matrix:\n" + "\n".join(failures)
    return requested


def test_no_canary_appears_anywhere(alice: User, bob: User, vera: User, caplog):
    caplog.set_level(logging.DEBUG)
    RESPONSES.clear()
    canaries = plant(alice)
    job = JobRun.objects.get(kind="test.use_vault")
    assert job.status == JobRun.Status.FAILED  # it really ran, and really crashed with the secret

    seen: list[str] = []

    shown_as_designed: set[str] = set()

    def inspect(where: str, text: str, allowed: frozenset[str] = frozenset()) -> None:
        for name, value in canaries.items():
            if value in text and name in allowed:
                shown_as_designed.add(name)
            elif value in text:
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
    from harborops.maintenance.models import CleanupItem, CleanupPlan

    # the planted dry run's plan (items "could not check") is read in the plan list; the routes get a
    # confirmable one, as in the role matrix
    ready = CleanupPlan.objects.create(status=CleanupPlan.Status.CHECKED, actor_name="alice")
    CleanupItem.objects.create(plan=ready, instance_id=objects["instance"], instance_name="eu-1", kind="repository",
                               repository="library/old", check_state="present")
    objects["cleanupplan"] = ready.pk
    from harborops.maintenance.models import OfflineTarget

    objects["offlinetarget"] = OfflineTarget.objects.create(
        name="canary-registry", host=SSHHost.objects.get(name="ssh-1"), stop_mode="systemd",
        systemd_unit="registry", config_path="/etc/registry/config.yml", storage_dir="/var/lib/registry",
        registry_url="http://127.0.0.1:9").pk
    objects["event"] = HarborEvent.objects.create(instance_id=objects["instance"], instance_name="eu-1",
                                                  source="audit-logs", harbor_id=1, op_time=job.created_at).pk
    objects.update(plant_replication(objects["instance"]))
    from datetime import timedelta

    from harborops.alerts.models import Alert, Channel, Route, Silence

    objects["alert"] = Alert.objects.get(summary="canary down").pk
    objects["channel"] = Channel.objects.get(name="canary-hook").pk
    objects["route"] = Route.objects.get(name="canary-route").pk
    objects["silence"] = Silence.objects.create(condition="fleet.*", starts_at=job.created_at,
                                                ends_at=job.created_at + timedelta(hours=1), reason="canary").pk
    # Wrong passwords until a lockout: the attempted password must not show anywhere either.
    canaries["mistyped login password"] = "canary-mistyped-login-password-5e1f"
    for _ in range(5):
        Client().post("/login/", {"username": "vera", "password": canaries["mistyped login password"]})
    from harborops.core.login_throttle import active_lockouts

    objects["lockout"] = active_lockouts().first().pk  # type: ignore[union-attr]  # a lockout that is active
    # A route whose object this plant does not make (a feature added later) gets the role matrix's object,
    # built by the same helpers the matrix uses: it is crawled, and its pages list the planted rows too.
    from tests.core.test_route_matrix import _objects as matrix_objects

    objects = matrix_objects(None) | objects
    crawled = crawl({"alice": alice, "bob": bob, "vera": vera}, objects, inspect)
    assert crawled > 2 * len(MATRIX)  # every route, with every method as the admin, really requested
    for user in (alice, bob, vera):
        client = Client()
        client.force_login(user)
        inspect("/api/jobs/ log", client.get(f"/api/jobs/{job.pk}/log/").content.decode())
        gc_job = GCStep.objects.get(pk=objects["gcstep"]).job_id  # a GC run's job page, step list: each instance's log
        for url in (f"/jobs/{gc_job}/", f"/maintenance/runs/{gc_job}/steps/", f"/api/jobs/{gc_job}/log/"):
            inspect(f"GET {url} as {user.username}", client.get(url).content.decode())
        inspect("/api/schema/", client.get("/api/schema/?format=json").content.decode())
        inspect("/api/action-log/?limit=500", client.get("/api/action-log/?limit=500").content.decode())
    token_shown = False
    for where, body in RESPONSES:
        route = resolve(where.split()[1]).view_name
        allowed = SHOWN_BY_DESIGN.get(route, frozenset())
        if route == "core:token_list" and not token_shown and canaries["API token key"] in body:
            token_shown = True  # a new token's key is shown once, on the page right after creating it
            allowed = frozenset({"API token key", "API token secret part"})
        inspect(f"the answer to {where} while planting", body, allowed)
    assert token_shown

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
    # The crawl's POSTs really reached the exports (their bodies were read): each exempted key was seen there.
    assert shown_as_designed >= CA_KEYS | SERVER_KEYS | {"API token key"}, shown_as_designed
    # The log line and the crash are there, only masked.
    assert JobLogLine.objects.filter(text="connecting to harbor as admin:********").exists()
    assert "harbor refused credentials ********" in job.error


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.timeout(240)
def test_no_canary_in_a_real_workers_log(sshd: Any, tmp_path: Any):
    """The jobs that use secrets run in a real Celery worker process (DEBUG logging: paramiko, httpcore, Celery,
    harborops), its whole output captured to a file: an SSH check with a passphrase-protected key, an install's
    preflight over SSH, a fleet sweep and an HA pair setup against two simulated Harbors (robot accounts with
    secrets created there, endpoints registered with them), and a job that crashes with a secret in hand."""
    import subprocess
    from datetime import UTC, datetime
    from pathlib import Path

    from harborops.fleet.tasks import start_sweep
    from harborops.harbor_sim import Fleet, SimServer
    from harborops.harbor_sim.clock import ManualClock
    from harborops.installs import services as installs
    from harborops.replication import pairs
    from harborops.replication.models import HAPair, PairSide
    from harborops.ssh.tasks import start_check
    from tests.support.processes import start_worker, stop, wait_for
    from tests.support.sshd import FAKE_HOSTS

    actor = Actor.system("pytest")
    canaries = {"Harbor admin password (the simulators')": "Canary-Sim-Admin-Pass-40a7",
                "SSH key passphrase": "Canary-Worker-Passphrase-b3c1",
                "install admin password": "Canary-Worker-Install-Admin-19fe",
                "encrypted secret (Harbor password stand-in)": "Canary-Worker-Vault-Secret-2d8e"}
    key_file = Path(tmp_path) / "key"
    key_file.write_text(sshd.private_key)
    key_file.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", canaries["SSH key passphrase"], "-f", str(key_file)],
                   check=True)
    protected_key = key_file.read_text()
    canaries["SSH private key (a line of it)"] = protected_key.splitlines()[2]
    host = SSHHost.objects.create(name="worker-ssh", address=FAKE_HOSTS[0], port=sshd.port, username=sshd.user,
                                  private_key=protected_key, key_passphrase=canaries["SSH key passphrase"],
                                  host_key=sshd.host_public_key, host_key_accepted_by="pytest")
    installer = Installer.objects.create(filename="harbor-offline-installer-v2.13.1.tgz", version="2.13.1")
    install = installs.create_install(actor=actor, name="worker-harbor", installer=installer,
                                      hosts=[(host, "harbor.test")], install_dir=f"{sshd.home}/worker-install",
                                      admin_password=canaries["install admin password"])
    canaries["generated database password"] = Install.objects.get(pk=install.pk).db_password
    vault = Vault.objects.create(name="worker", secret=canaries["encrypted secret (Harbor password stand-in)"])

    fleet = Fleet.create(2, "2.13.0", clock=ManualClock(datetime.now(UTC)),
                         admin_password=canaries["Harbor admin password (the simulators')"])
    log_path = Path(tmp_path) / "worker.log"
    with SimServer(fleet) as server:
        group = HAGroup.objects.create(name="worker-ha", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
        for n in (1, 2):
            Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password=canaries["Harbor admin password (the simulators')"], ha_group=group)
        # tests.settings: the test app (its Vault model) is installed in the worker too
        worker = start_worker(log_path, HARBOROPS_LOG_LEVEL="DEBUG", DJANGO_SETTINGS_MODULE="tests.settings")
        try:
            jobs = [start_check(actor=actor, host=host), installs.start_install(install, actor=actor),
                    start_sweep(actor=actor), pairs.start_setup(group, ["library"], actor=actor),
                    start_job("test.use_vault", actor=actor, params={"vault": vault.pk})]
            wait_for(lambda: all(j.is_finished for j in JobRun.objects.filter(pk__in=[j.pk for j in jobs])),
                     timeout=180, what=f"the jobs to finish in the worker (log: {log_path})", interval=0.5)
        finally:
            stop(worker)
    done = {j.kind: j for j in JobRun.objects.filter(pk__in=[j.pk for j in jobs])}
    # Each secret was really used: the check logged in with the protected key, the pair set up its robots.
    assert done["ssh.check"].status == JobRun.Status.SUCCEEDED, done["ssh.check"].error
    assert done["fleet.sweep"].status == JobRun.Status.SUCCEEDED, done["fleet.sweep"].error
    pair = HAPair.objects.filter(group=group).first()
    assert pair is not None and pair.status == HAPair.Status.SET_UP, (done[pairs.SETUP].status,
                                                                       done[pairs.SETUP].error)
    assert done["test.use_vault"].status == JobRun.Status.FAILED
    install_log = " ".join(JobLogLine.objects.filter(job=done["installs.run"]).values_list("text", flat=True))
    assert "preflight PASS memory" in install_log, install_log  # its preflight ran on the host over SSH
    for side in PairSide.objects.filter(pair__group=group):
        assert side.robot_secret
        canaries[f"robot secret on {side.instance.name}"] = side.robot_secret

    log = log_path.read_text(errors="replace")
    assert "DEBUG" in log and "paramiko" in log and "run_job" in log, log[-3000:]  # the worker logged, verbosely
    seen = [f"{name} in the worker's log" for name, value in canaries.items() if value in log]
    for line in JobLogLine.objects.values_list("text", flat=True):
        seen += [f"{name} in a job log line" for name, value in canaries.items() if value in line]
    for j in JobRun.objects.all():
        seen += [f"{name} in job {j.kind}" for name, value in canaries.items()
                 if value in f"{j.error} {j.summary} {j.params}"]
    assert not seen, "secrets leaked:\n" + "\n".join(seen)
    assert "harbor refused credentials ********" in done["test.use_vault"].error  # masked, not missing
