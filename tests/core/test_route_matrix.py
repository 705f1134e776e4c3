"""Every route × every method × every persona, against a literal table of expected statuses.

The table is written out by hand (never computed from the permission helpers under test).
Columns: anonymous, logged in without a role (charlie), viewer (vera), operator (bob), admin (alice).
A route that exists but is missing here fails ``test_the_table_covers_every_route``: later features
add their routes to this table.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from harborops.audit.models import ActionLogEntry
from harborops.core.models import ApiToken, JobRun
from harborops.fleet.models import HAGroup, Instance
from tests.support.fixtures import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PERSONAS = ("anon", "charlie", "vera", "bob", "alice")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# route name: (url with {placeholders}, {method: "anon charlie vera bob alice"})
MATRIX: dict[str, tuple[str, dict[str, str]]] = {
    "login": ("/login/", {
        "GET": "200 302 302 302 302", "POST": "200 302 302 302 302", "PUT": "200 302 302 302 302",
        "PATCH": "405 302 302 302 302", "DELETE": "405 302 302 302 302"}),
    "logout": ("/logout/", {
        "GET": "405 405 405 405 405", "POST": "302 302 302 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "healthz": ("/healthz", {
        "GET": "200 200 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "metrics": ("/metrics", {
        "GET": "200 200 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:home": ("/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:job_list": ("/jobs/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:job_detail": ("/jobs/{job}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:job_status": ("/jobs/{job}/status/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:job_cancel": ("/jobs/{job}/cancel/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:token_list": ("/account/tokens/", {
        "GET": "302 403 200 200 200", "POST": "302 403 200 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    # Each persona revokes its own token; nobody can revoke another's (404, not 403: no oracle).
    "core:token_revoke": ("/account/tokens/{own_token}/revoke/", {
        "GET": "405 405 405 405 405", "POST": "302 403 302 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:user_list": ("/users/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:user_role": ("/users/{other_user}/role/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "core:lockout_clear": ("/users/lockouts/{lockout}/clear/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "audit:actionlog_list": ("/audit/actions/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "audit:actionlog_detail": ("/audit/actions/{action}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_list": ("/fleet/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_detail": ("/fleet/{instance}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_create": ("/fleet/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_edit": ("/fleet/{instance}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_delete": ("/fleet/{instance}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_sweep": ("/fleet/{instance}/sweep/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:fleet_sweep": ("/fleet/sweep/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_import": ("/fleet/import/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:connection_test": ("/fleet/test-connection/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_connection_test": ("/fleet/{instance}/test-connection/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:hagroup_list": ("/fleet/ha-groups/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:hagroup_create": ("/fleet/ha-groups/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:hagroup_edit": ("/fleet/ha-groups/{hagroup}/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:hagroup_delete": ("/fleet/ha-groups/{hagroup}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    # REST API: 401 without credentials (DRF, Token scheme), 403 without the role.
    "api-schema": ("/api/schema/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "api-docs": ("/api/docs/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "api-redoc": ("/api/redoc/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:me": ("/api/me/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:job-list": ("/api/jobs/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:job-detail": ("/api/jobs/{job}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:job-cancel": ("/api/jobs/{job}/cancel/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 200 200", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:job-log": ("/api/jobs/{job}/log/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "core-api:token-list": ("/api/tokens/", {
        "GET": "401 403 200 200 200", "POST": "401 403 400 400 400", "PUT": "401 403 405 405 405",
        "PATCH": "401 403 405 405 405", "DELETE": "401 403 405 405 405"}),
    "core-api:token-detail": ("/api/tokens/{own_token}/", {
        "GET": "401 403 405 405 405", "POST": "401 403 405 405 405", "PUT": "401 403 405 405 405",
        "PATCH": "401 403 405 405 405", "DELETE": "401 403 204 204 204"}),
    "core-api:login-lockout-list": ("/api/login-lockouts/", {
        "GET": "401 403 403 403 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "core-api:login-lockout-detail": ("/api/login-lockouts/{lockout}/", {
        "GET": "401 403 403 403 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "core-api:login-lockout-clear": ("/api/login-lockouts/{lockout}/clear/", {
        "GET": "401 403 403 403 405", "POST": "401 403 403 403 204", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "audit-api:actionlog-list": ("/api/action-log/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "audit-api:actionlog-detail": ("/api/action-log/{action}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Fleet API: instances and credentials are admin's; a sweep is operator's.
    "fleet-api:instance-list": ("/api/fleet/instances/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:instance-detail": ("/api/fleet/instances/{instance}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "fleet-api:instance-sweep": ("/api/fleet/instances/{instance}/sweep/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "fleet-api:instance-sweep-all": ("/api/fleet/instances/sweep/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "fleet-api:instance-snapshots": ("/api/fleet/instances/{instance}/snapshots/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:instance-status-changes": ("/api/fleet/instances/{instance}/status-changes/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:instance-test-connection": ("/api/fleet/instances/test-connection/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:instance-import": ("/api/fleet/instances/import/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:hagroup-list": ("/api/fleet/ha-groups/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "fleet-api:hagroup-detail": ("/api/fleet/ha-groups/{hagroup}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    # SSH hosts: hosts, keys and host-key decisions are admin's; a check (a job) is operator's.
    "ssh:host_list": ("/ssh/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_detail": ("/ssh/{ssh_host}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_create": ("/ssh/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_edit": ("/ssh/{ssh_host}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_delete": ("/ssh/{ssh_host}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_scan_key": ("/ssh/{ssh_host}/scan-key/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_accept_key": ("/ssh/{ssh_host}/accept-key/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh:host_check": ("/ssh/{ssh_host}/check/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "ssh-api:host-list": ("/api/ssh/hosts/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "ssh-api:host-detail": ("/api/ssh/hosts/{ssh_host}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "ssh-api:host-scan-key": ("/api/ssh/hosts/{ssh_host}/scan-key/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 200", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "ssh-api:host-accept-key": ("/api/ssh/hosts/{ssh_host}/accept-key/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "ssh-api:host-check": ("/api/ssh/hosts/{ssh_host}/check/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Harbor installs: installers and install definitions are admin's; starting or retrying the job is operator's.
    "installs:install_list": ("/installs/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:installer_upload": ("/installs/installers/upload/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:installer_add_url": ("/installs/installers/url/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:install_create": ("/installs/new/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:install_detail": ("/installs/{install}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:install_steps": ("/installs/{install}/steps/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:install_start": ("/installs/{install}/start/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs:install_delete": ("/installs/{install}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "installs-api:installer-list": ("/api/installs/installers/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "installs-api:installer-detail": ("/api/installs/installers/{installer}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "installs-api:install-list": ("/api/installs/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "installs-api:install-detail": ("/api/installs/{install}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 204"}),
    "installs-api:install-start": ("/api/installs/{install}/start/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Access: reading needs viewer; mappings, plan/apply and drift checks are operator's.
    "access:mapping_list": ("/access/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:mapping_detail": ("/access/mappings/{mapping}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:mapping_create": ("/access/mappings/add/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:mapping_edit": ("/access/mappings/{mapping}/edit/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:mapping_delete": ("/access/mappings/{mapping}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:onboard": ("/access/onboard/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:group_search": ("/access/groups/search/", {
        "GET": "302 403 403 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:plan": ("/access/plan/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:apply": ("/access/apply/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:preflight": ("/access/preflight/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:preflight_draft": ("/access/preflight/draft/", {
        "GET": "302 403 403 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:drift_list": ("/access/drift/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access:drift_check": ("/access/drift/check/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "access-api:mapping-list": ("/api/access/mappings/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-detail": ("/api/access/mappings/{mapping}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 400 400",
        "PATCH": "401 403 403 200 200", "DELETE": "401 403 403 204 204"}),
    "access-api:mapping-plan": ("/api/access/mappings/{mapping}/plan/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-plan-all": ("/api/access/mappings/plan/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-preflight": ("/api/access/mappings/{mapping}/preflight/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-preflight-all": ("/api/access/mappings/preflight/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-apply": ("/api/access/mappings/apply/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:mapping-ldap-groups": ("/api/access/mappings/ldap-groups/", {
        "GET": "401 403 403 400 400", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:drift-list": ("/api/access/drift/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:drift-detail": ("/api/access/drift/{finding}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "access-api:drift-check": ("/api/access/drift/check/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Events: the unified search and export are viewer's; ingest and backfill jobs operator's; purge admin's.
    "events:event_list": ("/events/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:event_activity": ("/events/activity/?user=alice", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:event_export": ("/events/export.csv", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:event_detail": ("/events/harbor/{event}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:user_timeline": ("/events/users/alice/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:resource_timeline": ("/events/resources/?resource=matrix/app", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:instance_list": ("/events/instances/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:instance_ingest": ("/events/instances/{instance}/ingest/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:instance_backfill": ("/events/instances/{instance}/backfill/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:fleet_ingest": ("/events/ingest/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events:purge": ("/events/purge/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "events-api:search": ("/api/events/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:export": ("/api/events/export/jsonl/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:harbor-detail": ("/api/events/harbor/{event}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:activity": ("/api/events/activity/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:instances": ("/api/events/instances/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:anomalies": ("/api/events/anomalies/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:instance-ingest": ("/api/events/instances/{instance}/ingest/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:instance-backfill": ("/api/events/instances/{instance}/backfill/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:ingest-all": ("/api/events/ingest/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "events-api:purge": ("/api/events/purge/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 202", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
}


def route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
                yield from walk(p.url_patterns, ns)
            elif p.name:
                yield prefix + p.name

    names.update(walk(get_resolver().url_patterns, ""))
    return names


def test_the_table_covers_every_route():
    missing = route_names() - set(MATRIX)
    assert not missing, f"routes missing from the role matrix: {sorted(missing)}"
    gone = set(MATRIX) - route_names()
    assert not gone, f"table rows for routes that no longer exist: {sorted(gone)}"


@pytest.fixture
def personas(db: None) -> dict[str, User | None]:
    from harborops.core.roles import ADMIN, OPERATOR, VIEWER

    return {"anon": None, "charlie": make_user("charlie", None), "vera": make_user("vera", VIEWER),
            "bob": make_user("bob", OPERATOR), "alice": make_user("alice", ADMIN)}


def _objects(user: User | None) -> dict[str, int]:
    job = JobRun.objects.create(kind="test.steps", status=JobRun.Status.RUNNING)
    action = ActionLogEntry.objects.create(actor_name="x", action="test.thing", object_type="test")
    other = User.objects.create_user("someone-else")
    owner = user or other
    token, _ = ApiToken.issue(owner, "matrix")
    hagroup = HAGroup.objects.create(name="matrix-ha")
    instance = Instance.objects.create(name="matrix", url="http://127.0.0.1:9/h/1", username="admin", password="x",
                                       ha_group=hagroup)
    Instance.objects.create(name="matrix-2", url="http://127.0.0.1:9/h/2", username="admin", password="x",
                            ha_group=hagroup)
    from harborops.ssh.models import SSHHost

    ssh_host = SSHHost.objects.create(name="matrix-ssh", address="127.0.0.1", port=9, username="x")
    from harborops.installs.models import Install, Installer, InstallTarget

    installer = Installer.objects.create(filename="harbor-offline-installer-v2.13.1.tgz", version="2.13.1")
    install = Install.objects.create(name="matrix-install", installer=installer, admin_password="a", db_password="d")
    install_host = SSHHost.objects.create(name="matrix-ssh-2", address="127.0.0.1", port=9, username="x")
    InstallTarget.objects.create(install=install, host=install_host, hostname="harbor.test")
    from harborops.access.models import DriftFinding, TeamMapping

    mapping = TeamMapping.objects.create(ldap_group_dn="cn=matrix,ou=groups,dc=example,dc=org",
                                         project_name="matrix", targets="listed")
    mapping.instances.add(instance)
    finding = DriftFinding.objects.create(checked_at=job.created_at, instance=instance, kind="missing")
    objects = {"mapping": mapping.pk, "finding": finding.pk}
    from harborops.events.models import HarborEvent

    objects["event"] = HarborEvent.objects.create(instance=instance, instance_name="matrix", source="audit-logs",
                                                  harbor_id=1, op_time=job.created_at).pk
    from datetime import timedelta

    from harborops.core.models import LoginFailureCounter

    objects["lockout"] = LoginFailureCounter.objects.create(
        kind="address", key="192.0.2.7", failures=5, window_started_at=job.created_at, last_failure_at=job.created_at,
        locked_until=job.created_at + timedelta(hours=1)).pk
    return objects | {"job": job.pk, "action": action.pk, "other_user": other.pk, "own_token": token.pk,
            "instance": instance.pk, "hagroup": hagroup.pk, "ssh_host": ssh_host.pk,
            "installer": installer.pk, "install": install.pk}


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_as_the_table_says(route: str, personas: dict[str, User | None]):
    url_template, expected_by_method = MATRIX[route]
    assert set(expected_by_method) == set(METHODS), f"{route}: every method needs a row"
    failures = []
    for method in METHODS:
        expected = expected_by_method[method].split()
        for persona, want in zip(PERSONAS, expected, strict=True):
            user = personas[persona]
            with transaction.atomic():
                url = url_template.format(**_objects(user))
                client = Client()
                if user is not None:
                    client.force_login(user)
                response = getattr(client, method.lower())(url)
                transaction.set_rollback(True)
            if str(response.status_code) != want:
                failures.append(f"{method} {url} as {persona}: {response.status_code}, table says {want}")
    assert not failures, "\n".join(failures)
