"""The access API: mappings (checked against harborops' LDAP), plan, apply as a job, drift, group search."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from harborops.access.models import DriftFinding, TeamMapping
from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from tests.access.conftest import UseLdap
from tests.support.slapd import BASE, group_dn

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def harbors(use_ldap: UseLdap, ldap_fleet) -> list[Instance]:
    use_ldap("groupOfNames")
    _, server = ldap_fleet
    return [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345") for n in (1, 2)]


def test_an_operator_creates_plans_and_applies_a_mapping(bob: User, vera: User, harbors: list[Instance]) -> None:
    body = {"ldap_group_dn": group_dn("team-search"), "project_name": "search", "role": "developer",
            "targets": "listed", "instances": [harbors[0].pk]}
    assert api(vera).post("/api/access/mappings/", body, format="json").status_code == 403
    created = api(bob).post("/api/access/mappings/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["ldap_group_name"] == "team-search" and created.json()["instances"] == [harbors[0].pk]
    dup = api(bob).post("/api/access/mappings/", body, format="json")
    assert dup.status_code == 400 and "already has a mapping" in dup.content.decode()
    unknown = api(bob).post("/api/access/mappings/", {**body, "ldap_group_dn": f"cn=nope,ou=groups,{BASE}"},
                            format="json")
    assert unknown.status_code == 400 and "no LDAP group" in unknown.json()["ldap_group_dn"][0]

    mapping_id = created.json()["id"]
    plan = api(vera).get(f"/api/access/mappings/{mapping_id}/plan/").json()
    assert plan["change_count"] == 2
    texts = [c["text"] for c in plan["instances"][0]["changes"]]
    assert texts[0] == "create project search (private, no quota)"
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        assert api(vera).post("/api/access/mappings/apply/", {}, format="json").status_code == 403
        started = api(bob).post("/api/access/mappings/apply/", {"mapping_ids": [mapping_id]}, format="json")
        assert started.status_code == 202
        bad = api(bob).post("/api/access/mappings/apply/", {"mapping_ids": [999999]}, format="json")
        assert bad.status_code == 400
        empty = api(bob).post("/api/access/mappings/apply/", {"mapping_ids": []}, format="json")
        assert empty.status_code == 400
        huge = api(bob).post("/api/access/mappings/apply/", {"mapping_ids": [-(2**70)]}, format="json")
        assert huge.status_code == 400  # found by fuzzing: an id no database can hold was a 500
    execute(started.json()["id"])
    assert JobRun.objects.get(pk=started.json()["id"]).status == JobRun.Status.SUCCEEDED
    assert api(vera).get("/api/access/mappings/plan/").json()["change_count"] == 0
    actions = set(ActionLogEntry.objects.values_list("action", flat=True))
    assert {"access.mapping.create", "access.apply.start", "access.apply.instance"} <= actions


def test_drift_check_and_findings(bob: User, vera: User, harbors: list[Instance]) -> None:
    TeamMapping.objects.create(ldap_group_dn=group_dn("team-search"), project_name="search")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = api(bob).post("/api/access/drift/check/")
    assert started.status_code == 202
    execute(started.json()["id"])
    findings = api(vera).get("/api/access/drift/?kind=missing").json()
    assert findings["count"] == 2 and {f["instance_name"] for f in findings["results"]} == {"harbor-1", "harbor-2"}
    one = findings["results"][0]
    assert api(vera).get(f"/api/access/drift/{one['id']}/").json()["kind"] == "missing"
    assert DriftFinding.objects.filter(kind="missing_project").count() == 2


def test_ldap_group_search_escapes_and_needs_an_operator(bob: User, vera: User, use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    assert api(vera).get("/api/access/mappings/ldap-groups/?q=team").status_code == 403
    found = api(bob).get("/api/access/mappings/ldap-groups/?q=team-pay").json()
    assert [g["name"] for g in found] == ["team-payments", "team-payments-contractors"]
    assert api(bob).get("/api/access/mappings/ldap-groups/", {"q": "*)(cn=*"}).json() == []
    assert api(bob).get("/api/access/mappings/ldap-groups/").status_code == 400
