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
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:instance_sweep": ("/fleet/{instance}/sweep/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:fleet_sweep": ("/fleet/sweep/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "fleet:sweep_status": ("/fleet/sweeps/status/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
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
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
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
    "fleet-api:sweeprun-list": ("/api/fleet/sweep-runs/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "fleet-api:sweeprun-detail": ("/api/fleet/sweep-runs/{sweeprun}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "fleet-api:sweeprun-latest": ("/api/fleet/sweep-runs/latest/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
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
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
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
    # Certificates: endpoints are admin's; a scan (a job) is operator's; everything reads for viewers.
    "certificates:expiry_list": ("/certificates/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:scan_all": ("/certificates/scan/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_list": ("/certificates/endpoints/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_create": ("/certificates/endpoints/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_detail": ("/certificates/endpoints/{endpoint}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_edit": ("/certificates/endpoints/{endpoint}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_delete": ("/certificates/endpoints/{endpoint}/delete/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:endpoint_scan": ("/certificates/endpoints/{endpoint}/scan/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates-api:endpoint-list": ("/api/certificates/endpoints/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:endpoint-detail": ("/api/certificates/endpoints/{endpoint}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "certificates-api:endpoint-scan": ("/api/certificates/endpoints/{endpoint}/scan/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:endpoint-scan-all": ("/api/certificates/endpoints/scan/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:certificate-list": ("/api/certificates/certificates/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:certificate-detail": ("/api/certificates/certificates/{certificate}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:expiry-list": ("/api/certificates/expiry/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Managed CAs: everything but reading (and the public CA certificate) is admin's; key exports are POST only.
    "certificates:ca_list": ("/certificates/cas/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_create": ("/certificates/cas/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_import": ("/certificates/cas/import/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_detail": ("/certificates/cas/{ca}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_issue": ("/certificates/cas/{ca}/issue/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 400", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_delete": ("/certificates/cas/{ca}/delete/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_download": ("/certificates/cas/{ca}/ca.crt", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:ca_export_key": ("/certificates/cas/{ca}/export-key/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:issued_detail": ("/certificates/issued/{issued}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:issued_cert": ("/certificates/issued/{issued}/cert.pem", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:issued_chain": ("/certificates/issued/{issued}/chain.pem", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:issued_bundle": ("/certificates/issued/{issued}/bundle/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates-api:ca-list": ("/api/certificates/cas/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:ca-detail": ("/api/certificates/cas/{ca}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 400"}),
    "certificates-api:ca-import": ("/api/certificates/cas/import/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:ca-issue": ("/api/certificates/cas/{ca}/issue/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:ca-export-key": ("/api/certificates/cas/{ca}/export-key/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 200", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:issued-list": ("/api/certificates/issued/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:issued-detail": ("/api/certificates/issued/{issued}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:issued-export-key": ("/api/certificates/issued/{issued}/export-key/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 200", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    # CA trust on pulling hosts: pulling hosts are admin's; pushes and checks (jobs) are operator's.
    "certificates:trust_matrix": ("/certificates/trust/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:pulling_host_create": ("/certificates/trust/hosts/add/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:pulling_host_delete": ("/certificates/trust/hosts/{pulling_host}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:trust_push": ("/certificates/trust/push/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:trust_check": ("/certificates/trust/check/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates-api:pulling-host-list": ("/api/certificates/pulling-hosts/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:pulling-host-detail": ("/api/certificates/pulling-hosts/{pulling_host}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 204"}),
    "certificates-api:trust-list": ("/api/certificates/trust/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:trust-push": ("/api/certificates/trust/push/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:trust-check": ("/api/certificates/trust/check/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Certificate rotation on managed hosts: starting one (rotate, renew) is admin's; reading is viewer's.
    "certificates:managed_list": ("/certificates/managed/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:rotate": ("/certificates/managed/{instance}/rotate/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:renew": ("/certificates/managed/{instance}/renew/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates:deployment_detail": ("/certificates/rotations/{deployment}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "certificates-api:disk-file-list": ("/api/certificates/disk-files/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:disk-file-detail": ("/api/certificates/disk-files/{disk_file}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "certificates-api:rotation-list": ("/api/certificates/rotations/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:rotation-detail": ("/api/certificates/rotations/{deployment}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:rotation-renew": ("/api/certificates/rotations/renew/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "certificates-api:attention-list": ("/api/certificates/attention/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
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
        "GET": "302 403 403 200 200", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
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
    # Replication: reading needs viewer; collect, trigger, stop and enable/disable need operator.
    "replication:policy_list": ("/replication/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:collect": ("/replication/collect/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:policy_detail": ("/replication/policies/{rpolicy}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:policy_trigger": ("/replication/policies/{rpolicy}/trigger/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:policy_set_enabled": ("/replication/policies/{rpolicy}/enabled/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:execution_stop": ("/replication/executions/{rexecution}/stop/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:task_log": ("/replication/tasks/{rtask}/log/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication-api:policy-list": ("/api/replication/policies/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:policy-detail": ("/api/replication/policies/{rpolicy}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:policy-executions": ("/api/replication/policies/{rpolicy}/executions/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:registry-list": ("/api/replication/registries/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:instance-list": ("/api/replication/instances/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:task-log": ("/api/replication/tasks/{rtask}/log/", {
        "GET": "401 403 502 502 502", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:collect": ("/api/replication/collect/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:policy-trigger": ("/api/replication/policies/{rpolicy}/trigger/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 502 502", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:policy-enabled": ("/api/replication/policies/{rpolicy}/enabled/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:execution-stop": ("/api/replication/executions/{rexecution}/stop/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 502 502", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication:pair_list": ("/replication/pairs/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_detail": ("/replication/pairs/{hagroup}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_setup": ("/replication/pairs/{hagroup}/setup/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_teardown": ("/replication/pairs/{hagroup}/teardown/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_check": ("/replication/pairs/{hagroup}/check/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication-api:pair-list": ("/api/replication/pairs/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:pair-detail": ("/api/replication/pairs/{hagroup}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:pair-setup": ("/api/replication/pairs/{hagroup}/setup/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "replication-api:pair-teardown": ("/api/replication/pairs/{hagroup}/teardown/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "replication-api:pair-check": ("/api/replication/pairs/{hagroup}/check/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication:topology": ("/replication/topology/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:topology_svg": ("/replication/topology.svg", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:policy_schedule": ("/replication/policies/{rpolicy}/schedule/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_rotate": ("/replication/pairs/{hagroup}/rotate/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_report": ("/replication/pairs/{hagroup}/report/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication:pair_report_csv": ("/replication/pairs/{hagroup}/report.csv", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "replication-api:pair-missing": ("/api/replication/pairs/{hagroup}/missing/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:topology": ("/api/replication/topology/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "replication-api:policy-schedule": ("/api/replication/policies/{rpolicy}/schedule/", {
        "GET": "401 403 404 404 404", "POST": "401 403 403 405 405", "PUT": "401 403 403 400 400",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 204 204"}),
    "replication-api:pair-rotate": ("/api/replication/pairs/{hagroup}/rotate/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    # Maintenance (GC): reading needs viewer; policies are admin's; runs, checks and Harbor schedules operator's.
    "maintenance:overview": ("/maintenance/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:check": ("/maintenance/check/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_create": ("/maintenance/policies/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_detail": ("/maintenance/policies/{gcpolicy}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_edit": ("/maintenance/policies/{gcpolicy}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_delete": ("/maintenance/policies/{gcpolicy}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_run": ("/maintenance/policies/{gcpolicy}/run/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:policy_set_schedules": ("/maintenance/policies/{gcpolicy}/set-schedules/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:run_steps": ("/maintenance/runs/{job}/steps/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:offline_create": ("/maintenance/offline/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:offline_detail": ("/maintenance/offline/{offlinetarget}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:offline_edit": ("/maintenance/offline/{offlinetarget}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:offline_delete": ("/maintenance/offline/{offlinetarget}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance-api:offline-target-list": ("/api/maintenance/offline-targets/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "maintenance-api:offline-target-detail": ("/api/maintenance/offline-targets/{offlinetarget}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "maintenance-api:policy-list": ("/api/maintenance/policies/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "maintenance-api:policy-detail": ("/api/maintenance/policies/{gcpolicy}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "maintenance-api:policy-run": ("/api/maintenance/policies/{gcpolicy}/run/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:policy-set-schedules": ("/api/maintenance/policies/{gcpolicy}/set-schedules/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:step-list": ("/api/maintenance/steps/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:step-detail": ("/api/maintenance/steps/{gcstep}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:instance-list": ("/api/maintenance/instances/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:instance-check": ("/api/maintenance/instances/check/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Clean-up: the report is a viewer's; collecting, dry runs and confirmed deletions an operator's.
    "maintenance:cleanup_report": ("/maintenance/cleanup/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:cleanup_scan": ("/maintenance/cleanup/scan/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:cleanup_create": ("/maintenance/cleanup/new/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:cleanup_plan": ("/maintenance/cleanup/{cleanupplan}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance:cleanup_confirm": ("/maintenance/cleanup/{cleanupplan}/confirm/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "maintenance-api:cleanup-untagged-list": ("/api/maintenance/cleanup/untagged/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-untagged-scan": ("/api/maintenance/cleanup/untagged/scan/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-project-list": ("/api/maintenance/cleanup/projects/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-project-scan": ("/api/maintenance/cleanup/projects/scan/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-repository-list": ("/api/maintenance/cleanup/repositories/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-repository-scan": ("/api/maintenance/cleanup/repositories/scan/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-plan-list": ("/api/maintenance/cleanup/plans/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-plan-detail": ("/api/maintenance/cleanup/plans/{cleanupplan}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "maintenance-api:cleanup-plan-confirm": ("/api/maintenance/cleanup/plans/{cleanupplan}/confirm/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    # Alerts: viewers read; operators acknowledge and silence; admins edit routes and channels.
    "alerts:alert_list": ("/alerts/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:alert_detail": ("/alerts/{alert}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:alert_ack": ("/alerts/{alert}/ack/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:alert_unack": ("/alerts/{alert}/unack/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:silence_list": ("/alerts/silences/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:silence_create": ("/alerts/silences/add/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:silence_edit": ("/alerts/silences/{silence}/edit/", {
        "GET": "302 403 403 200 200", "POST": "302 403 403 200 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:silence_expire": ("/alerts/silences/{silence}/expire/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:route_list": ("/alerts/routes/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:route_create": ("/alerts/routes/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:route_edit": ("/alerts/routes/{route}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:route_delete": ("/alerts/routes/{route}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_list": ("/alerts/channels/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_detail": ("/alerts/channels/{channel}/", {
        "GET": "302 403 200 200 200", "POST": "405 405 405 405 405", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_create": ("/alerts/channels/add/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_edit": ("/alerts/channels/{channel}/edit/", {
        "GET": "302 403 403 403 200", "POST": "302 403 403 403 200", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_delete": ("/alerts/channels/{channel}/delete/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 403 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts:channel_test": ("/alerts/channels/{channel}/test/", {
        "GET": "405 405 405 405 405", "POST": "302 403 403 302 302", "PUT": "405 405 405 405 405",
        "PATCH": "405 405 405 405 405", "DELETE": "405 405 405 405 405"}),
    "alerts-api:attention": ("/api/attention/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:alert-list": ("/api/alerts/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:alert-detail": ("/api/alerts/{alert}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:alert-ack": ("/api/alerts/{alert}/ack/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 200 200", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:alert-unack": ("/api/alerts/{alert}/unack/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:silence-list": ("/api/alerts/silences/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 400 400", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:silence-detail": ("/api/alerts/silences/{silence}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 405 405", "PUT": "401 403 403 400 400",
        "PATCH": "401 403 403 200 200", "DELETE": "401 403 403 204 204"}),
    "alerts-api:silence-expire": ("/api/alerts/silences/{silence}/expire/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 200 200", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
    "alerts-api:route-list": ("/api/alerts/routes/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "alerts-api:route-detail": ("/api/alerts/routes/{route}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "alerts-api:channel-list": ("/api/alerts/channels/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 400", "PUT": "401 403 403 403 405",
        "PATCH": "401 403 403 403 405", "DELETE": "401 403 403 403 405"}),
    "alerts-api:channel-detail": ("/api/alerts/channels/{channel}/", {
        "GET": "401 403 200 200 200", "POST": "401 403 403 403 405", "PUT": "401 403 403 403 400",
        "PATCH": "401 403 403 403 200", "DELETE": "401 403 403 403 204"}),
    "alerts-api:channel-test": ("/api/alerts/channels/{channel}/test/", {
        "GET": "401 403 405 405 405", "POST": "401 403 403 202 202", "PUT": "401 403 403 405 405",
        "PATCH": "401 403 403 405 405", "DELETE": "401 403 403 405 405"}),
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
    from harborops.fleet.models import SweepRun

    objects["sweeprun"] = SweepRun.objects.create(started_at=job.created_at, finished_at=job.created_at).pk
    objects.update(certificate_objects())
    objects.update(alert_objects(instance))
    objects.update(replication_objects(instance))
    from harborops.maintenance.models import GCPolicy, GCStep

    gcpolicy = GCPolicy.objects.create(name="matrix-gc", harbor_cron="0 0 3 * * 6")
    objects["gcpolicy"] = gcpolicy.pk
    objects["gcstep"] = GCStep.objects.create(job=job, policy=gcpolicy, instance=instance, instance_name="matrix").pk
    from harborops.maintenance.models import CleanupItem, CleanupPlan, OfflineTarget

    plan = CleanupPlan.objects.create(status=CleanupPlan.Status.CHECKED, actor_name="x")
    CleanupItem.objects.create(plan=plan, instance=instance, instance_name="matrix", kind="repository",
                               repository="library/matrix", check_state="present")
    objects["cleanupplan"] = plan.pk

    registry_host = SSHHost.objects.create(name="matrix-ssh-registry", address="127.0.0.1", port=9, username="x")
    objects["offlinetarget"] = OfflineTarget.objects.create(  # on a host of its own: {ssh_host} stays removable
        name="matrix-registry", host=registry_host, stop_mode="compose", compose_dir="/opt/registry",
        config_path="/etc/registry/config.yml", storage_dir="/var/lib/registry",
        registry_url="http://127.0.0.1:9").pk
    return objects | {"job": job.pk, "action": action.pk, "other_user": other.pk, "own_token": token.pk,
            "instance": instance.pk, "hagroup": hagroup.pk, "ssh_host": ssh_host.pk,
            "installer": installer.pk, "install": install.pk}


def replication_objects(instance: Instance) -> dict[str, int]:
    from harborops.replication.models import Execution, FailedTask, Policy

    policy = Policy.objects.create(instance=instance, harbor_id=1, name="matrix-repl", direction="push",
                                   trigger_type="manual")
    execution = Execution.objects.create(instance=instance, policy=policy, harbor_id=1, status="InProgress")
    task = FailedTask.objects.create(execution=execution, harbor_id=1, status="Failed")
    return {"rpolicy": policy.pk, "rexecution": execution.pk, "rtask": task.pk}


def alert_objects(instance: Instance) -> dict[str, int]:
    from datetime import timedelta

    from django.utils.timezone import now

    from harborops.alerts.models import Alert, Channel, Route, Silence

    alert = Alert.objects.create(condition="fleet.instance_down", subject=f"instance:{instance.pk}",
                                 severity="critical", summary="matrix is down", instance=instance,
                                 first_seen=now(), last_seen=now())
    silence = Silence.objects.create(condition="fleet.*", starts_at=now(), ends_at=now() + timedelta(hours=1),
                                     reason="matrix")
    channel = Channel.objects.create(name="matrix-mail", kind="email", email_to="ops@example.org")
    route = Route.objects.create(name="matrix-route", is_default=True)
    route.channels.add(channel)
    return {"alert": alert.pk, "silence": silence.pk, "channel": channel.pk, "route": route.pk}


def certificate_objects() -> dict[str, int]:
    from django.utils.timezone import now

    from harborops.certificates.models import Certificate, ChainEntry, Endpoint

    endpoint = Endpoint.objects.create(label="matrix-tls", host="127.0.0.1", port=9)
    cert = Certificate.objects.create(fingerprint="AB:CD", pem="-", subject="CN=m", issuer="CN=m", serial="1",
                                      not_before=now(), not_after=now(), signature_algorithm="x", key_type="RSA")
    ChainEntry.objects.create(endpoint=endpoint, certificate=cert, position=0)
    from harborops.certificates.models import IssuedCertificate, ManagedCA

    ca = ManagedCA.objects.create(name="matrix-ca", origin="generated", certificate="-", private_key="k",
                                  fingerprint="AB", subject="CN=m", key_description="EC", not_before=now(),
                                  not_after=now())
    issued = IssuedCertificate.objects.create(ca=ca, hostname="h", certificate="-", private_key="k",
                                              fingerprint="CD", serial="1", not_before=now(), not_after=now())
    from harborops.certificates.models import PullingHost
    from harborops.ssh.models import SSHHost

    pulling = PullingHost.objects.create(host=SSHHost.objects.create(name="matrix-pull", address="127.0.0.1",
                                                                     port=9, username="x"))
    from harborops.certificates.models import Deployment, DiskFile
    from harborops.installs.models import InstallTarget

    deployment = Deployment.objects.create(instance_name="matrix", issued=issued)
    target = InstallTarget.objects.filter(install__name="matrix-install").first()
    disk_file = DiskFile.objects.create(target=target, kind="https_certificate", path="/opt/cert/server.crt")
    return {"endpoint": endpoint.pk, "certificate": cert.pk, "ca": ca.pk, "issued": issued.pk,
            "pulling_host": pulling.pk, "deployment": deployment.pk, "disk_file": disk_file.pk}


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_as_the_table_says(route: str, personas: dict[str, User | None]):
    url_template, expected_by_method = MATRIX[route]
    assert set(expected_by_method) == set(METHODS), f"{route}: every method needs a row"
    failures = []
    # The objects are built once per test; each request runs in a savepoint rolled back afterwards, so
    # every request (a DELETE, a POST that starts a job) sees them exactly as built.
    objects = _objects(None)
    own_tokens = {persona: ApiToken.issue(user, "matrix")[0].pk for persona, user in personas.items() if user}
    for method in METHODS:
        expected = expected_by_method[method].split()
        for persona, want in zip(PERSONAS, expected, strict=True):
            user = personas[persona]
            url = url_template.format(**(objects | {"own_token": own_tokens.get(persona, objects["own_token"])}))
            with transaction.atomic():
                client = Client()
                if user is not None:
                    client.force_login(user)
                response = getattr(client, method.lower())(url)
                transaction.set_rollback(True)
            if str(response.status_code) != want:
                failures.append(f"{method} {url} as {persona}: {response.status_code}, table says {want}")
    assert not failures, "\n".join(failures)
