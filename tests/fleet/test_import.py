"""Bulk import: every row checked, all or nothing, re-import changes nothing; page, API, command."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services.importer import import_instances, parse

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ACTOR = Actor.system("test")
CSV = """name,url,username,password,credential_kind,labels,enabled,ha_group
eu-1,https://eu-1.example.test,admin,Pw-eu-1-secret,sysadmin,env=prod;region=eu,true,
eu-2,https://eu-2.example.test,robot$sweeper,Pw-eu-2-secret,robot,env=prod;region=eu,yes,pair
"""
YAML = """
instances:
  - name: us-1
    url: https://us-1.example.test
    username: admin
    password: Pw-us-1-secret
    labels: {env: staging, region: us}
  - {name: us-2, url: "https://us-2.example.test", username: admin, password: Pw-us-2-secret, enabled: false}
"""


def test_csv_and_yaml_import_every_field_and_reimport_changes_nothing():
    HAGroup.objects.create(name="pair")
    result = import_instances(parse(CSV), actor=ACTOR)
    assert (result.applied, result.created, result.errors) == (True, ["eu-1", "eu-2"], [])
    eu2 = Instance.objects.get(name="eu-2")
    assert (eu2.credential_kind, eu2.labels, eu2.ha_group.name, eu2.password) == (  # type: ignore[union-attr]
        "robot", {"env": "prod", "region": "eu"}, "pair", "Pw-eu-2-secret")
    result = import_instances(parse(YAML), actor=ACTOR)
    assert result.created == ["us-1", "us-2"] and not Instance.objects.get(name="us-2").enabled
    assert Instance.objects.get(name="us-1").labels == {"env": "staging", "region": "us"}
    logged = ActionLogEntry.objects.filter(action="fleet.instance.create").count()
    again = import_instances(parse(CSV), actor=ACTOR)
    assert (again.applied, again.created, again.updated, again.unchanged) == (True, [], [], ["eu-1", "eu-2"])
    assert ActionLogEntry.objects.filter(action__startswith="fleet.instance").count() == logged


def test_one_bad_row_imports_nothing_and_every_problem_is_named():
    bad = CSV.replace("https://eu-2.example.test", "not a url") + "eu-1,https://x.test,admin,pw,,,,\n" \
        + "eu-3,https://eu-3.example.test,admin,,,,,\n" + "eu-4,https://eu-4.example.test,admin,pw,,novalue,,\n"
    result = import_instances(parse(bad), actor=ACTOR)
    assert not result.applied and Instance.objects.count() == 0
    text = "\n".join(result.errors)
    assert "row 2 (eu-2)" in text and "no HA group named 'pair'" in text
    assert "row 3 (eu-1): the same name appears twice" in text
    assert "row 4 (eu-3): password missing" in text
    assert "row 5 (eu-4): label 'novalue' is not key=value" in text


def test_an_existing_name_is_updated_and_a_blank_password_keeps_the_stored_one():
    import_instances(parse(YAML), actor=ACTOR)
    changed = YAML.replace("env: staging", "env: prod").replace("password: Pw-us-1-secret", "password: ''")
    result = import_instances(parse(changed), actor=ACTOR)
    assert result.updated == ["us-1"] and result.unchanged == ["us-2"]
    us1 = Instance.objects.get(name="us-1")
    assert us1.labels["env"] == "prod" and us1.password == "Pw-us-1-secret"


def test_dry_run_and_unreadable_input():
    result = import_instances(parse(YAML), actor=ACTOR, dry_run=True)
    assert result.created == ["us-1", "us-2"] and not result.applied and Instance.objects.count() == 0
    with pytest.raises(ValueError, match="not valid YAML"):
        parse("a: [b", "yaml")
    with pytest.raises(ValueError, match="lacks username"):
        parse("name,url\nx,https://x.test\n")


def test_the_page_checks_first_then_imports(alice: User):
    client = Client()
    client.force_login(alice)
    checked = client.post("/fleet/import/", {"text": YAML, "dry_run": "on"})
    assert b"2 would be added" in checked.content and Instance.objects.count() == 0
    assert b"Pw-us-1-secret" not in checked.content
    sealed = checked.context["form"].initial["sealed"]
    assert "us-1" not in sealed
    done = client.post("/fleet/import/", {"sealed": sealed})
    assert done.status_code == 302 and Instance.objects.count() == 2
    assert client.post("/fleet/import/", {"sealed": "tampered"}).context["form"].errors


def test_the_api_answers_400_with_row_errors_and_200_when_applied(alice: User):
    api = APIClient()
    api.force_authenticate(alice)
    r = api.post("/api/fleet/instances/import/", {"content": "name,url,username\nx,bad,admin\n"}, format="json")
    assert r.status_code == 400 and r.json()["applied"] is False and "row 1 (x)" in r.json()["errors"][0]
    r = api.post("/api/fleet/instances/import/", {"content": CSV.replace(",pair", ","), "format": "csv"}, format="json")
    assert r.status_code == 200 and r.json()["created"] == ["eu-1", "eu-2"]
