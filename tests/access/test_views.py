"""Access pages: the live LDAP group search, the onboarding wizard, mapping edit/delete, drift, the
scheduled drift check."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.access.models import DriftCheck, TeamMapping
from harborops.access.tasks import check_drift
from harborops.audit.models import ActionLogEntry
from harborops.fleet.models import Instance
from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule
from tests.access.conftest import UseLdap
from tests.support.slapd import group_dn

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_group_search_lists_matches_as_choices_and_escapes(bob: User, use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    page = browser(bob).get("/access/groups/search/", {"q": "team-pay"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'value="{group_dn("team-payments")}"' in page and "team-payments-contractors" in page
    nothing = browser(bob).get("/access/groups/search/", {"q": "*)(cn=*"}).content.decode()
    assert "No LDAP group matches" in nothing and 'type="radio"' not in nothing


def test_the_group_search_says_when_the_directory_is_down(bob: User, use_ldap: UseLdap) -> None:
    from tests.support.processes import free_port

    use_ldap("groupOfNames", HARBOROPS_LDAP_URI=f"ldap://127.0.0.1:{free_port()}", HARBOROPS_LDAP_TIMEOUT="1")
    page = browser(bob).get("/access/groups/search/", {"q": "team"}).content.decode()
    assert "the LDAP directory is unreachable" in page


def test_onboarding_creates_one_mapping_per_project_and_logs_it(bob: User, use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    prod = Instance.objects.create(name="prod-1", url="http://127.0.0.1:9", username="admin", password="x",
                                   labels={"env": "prod"})
    form = {"ldap_group_dn": group_dn("team-payments"), "targets": "label", "target_label": "env=prod",
            "p-TOTAL_FORMS": "3", "p-INITIAL_FORMS": "0", "p-0-project_name": "payments", "p-0-role": "developer",
            "p-1-project_name": "payments-ci", "p-1-role": "guest", "p-1-project_public": "on",
            "p-2-project_name": "", "p-2-role": "developer"}
    response = browser(bob).post("/access/onboard/", form)
    assert response.status_code == 302
    ids = sorted(TeamMapping.objects.values_list("pk", flat=True))
    assert response["Location"] == "/access/plan/?" + "&".join(f"mapping={i}" for i in ids)
    rows = {m.project_name: m for m in TeamMapping.objects.all()}
    assert rows["payments-ci"].project_public and rows["payments-ci"].role == "guest"
    assert rows["payments"].ldap_group_name == "team-payments"
    entry = ActionLogEntry.objects.get(action="access.onboard")
    assert entry.actor_name == "bob" and entry.after is not None and len(entry.after["mappings"]) == 2
    assert ActionLogEntry.objects.filter(action="access.mapping.create").count() == 2
    from harborops.access.services.mappings import target_instances

    assert target_instances(rows["payments"]) == [prod]
    bad = browser(bob).post("/access/onboard/", {**form, "target_label": "prod"})
    assert bad.status_code == 200 and "key=value" in bad.content.decode()


def test_mapping_edit_and_delete_are_audited(bob: User, use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    mapping = TeamMapping.objects.create(ldap_group_dn=group_dn("team-search"), project_name="search")
    form = {"ldap_group_dn": group_dn("team-search"), "project_name": "search", "role": "maintainer",
            "targets": "all"}
    response = browser(bob).post(f"/access/mappings/{mapping.pk}/edit/", form)
    assert response.status_code == 302
    entry = ActionLogEntry.objects.get(action="access.mapping.update")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.after["role"]) == ("developer", "maintainer")
    page = browser(bob).get(f"/access/mappings/{mapping.pk}/").content.decode()
    assert "Maintainer" in page
    assert browser(bob).post(f"/access/mappings/{mapping.pk}/delete/").status_code == 302
    assert not TeamMapping.objects.exists()
    assert ActionLogEntry.objects.filter(action="access.mapping.delete").exists()


def test_the_scheduled_drift_check_runs_and_its_cron_comes_from_the_environment(vera: User) -> None:
    assert check_drift() == "0 drift findings on 0 of 0 instances"
    assert DriftCheck.objects.count() == 1
    assert "Not checked yet" not in browser(vera).get("/access/drift/").content.decode()
    schedule = build_beat_schedule(SYSTEM_SCHEDULES, {"HARBOROPS_ACCESS_DRIFT_CRON": "5 * * * *"})
    entry = schedule["harborops: Check access drift"]
    assert entry["task"] == "harborops.access.tasks.check_drift" and entry["schedule"]._orig_minute == "5"
    assert "harborops: Check access drift" not in build_beat_schedule(
        SYSTEM_SCHEDULES, {"HARBOROPS_ACCESS_DRIFT_CRON": "disable"})


def test_apply_from_a_stale_plan_never_widens_to_every_mapping(bob: User) -> None:
    from unittest import mock

    from harborops.core.models import JobRun

    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        response = browser(bob).post("/access/apply/", {"mapping": ["424242"]})
        assert response.status_code == 302 and response["Location"] == "/access/plan/"
        assert not JobRun.objects.exists()
        mapping = TeamMapping.objects.create(ldap_group_dn=group_dn("team-search"), project_name="search")
        browser(bob).post("/access/apply/", {"mapping": [str(mapping.pk)]})
    job = JobRun.objects.get()
    assert job.kind == "access.apply" and job.params == {"mapping_ids": [mapping.pk]}
