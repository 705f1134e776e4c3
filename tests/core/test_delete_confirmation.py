"""Destructive actions ask first and say what goes with the object; the action log keeps its state."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from harborops.access.models import DriftFinding, ManagedMembership, TeamMapping
from harborops.audit.models import ActionLogEntry
from harborops.fleet.models import HealthSnapshot, Instance, StatusChange
from tests.support.fixtures import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_removing_an_instance_lists_what_goes_with_it_then_removes_it():
    instance = Instance.objects.create(name="eu-prod", url="https://127.0.0.1:9/", username="admin",
                                       password="pw-never-shown")
    now = timezone.now()
    for _ in range(3):
        HealthSnapshot.objects.create(instance=instance, taken_at=now, status="up")
    StatusChange.objects.create(instance=instance, at=now, from_status="unknown", to_status="up")
    mapping = TeamMapping.objects.create(ldap_group_dn="cn=payments,ou=groups,dc=example,dc=org",
                                         project_name="payments", targets="listed")
    ManagedMembership.objects.create(instance=instance, mapping=mapping, project_name="payments", entity_type="g",
                                     entity="cn=payments,ou=groups,dc=example,dc=org", role_id=2)
    DriftFinding.objects.create(checked_at=now, instance=instance, kind="missing")
    web = Client()
    web.force_login(make_user("alice", "admin"))

    page = web.get(f"/fleet/{instance.pk}/delete/").content.decode()
    for line in ("3 health snapshots deleted", "1 status changes deleted", "1 managed memberships deleted",
                 "1 drift findings deleted"):
        assert line in page, page
    assert "pw-never-shown" not in page
    assert Instance.objects.filter(pk=instance.pk).exists()  # asking is not doing

    assert web.post(f"/fleet/{instance.pk}/delete/").status_code == 302
    assert not Instance.objects.filter(pk=instance.pk).exists() and not HealthSnapshot.objects.exists()
    entry = ActionLogEntry.objects.get(action="fleet.instance.delete")
    assert entry.before["name"] == "eu-prod" and entry.after is None


def test_removing_a_mapping_says_its_memberships_stay_until_the_next_apply():
    instance = Instance.objects.create(name="eu-prod", url="https://127.0.0.1:9/", username="admin", password="x")
    mapping = TeamMapping.objects.create(ldap_group_dn="cn=payments,ou=groups,dc=example,dc=org",
                                         project_name="payments", targets="listed")
    ManagedMembership.objects.create(instance=instance, mapping=mapping, project_name="payments", entity_type="g",
                                     entity="cn=payments,ou=groups,dc=example,dc=org", role_id=2)
    web = Client()
    web.force_login(make_user("bob", "operator"))
    page = web.get(f"/access/mappings/{mapping.pk}/delete/").content.decode()
    assert "1 managed memberships kept, unlinked" in page
    assert "The Harbor memberships it created (1) stay until the next apply removes them" in page


def test_removing_a_ca_asks_first_names_what_blocks_it_and_never_shows_the_key():
    from harborops.certificates.models import IssuedCertificate, ManagedCA

    now = timezone.now()
    ca = ManagedCA.objects.create(name="lab-ca", origin="generated", certificate="-", private_key="CA-KEY-CANARY",
                                  fingerprint="AB", subject="CN=lab", key_description="EC P-256", not_before=now,
                                  not_after=now)
    issued = IssuedCertificate.objects.create(ca=ca, hostname="harbor.lab", certificate="-", private_key="k",
                                              fingerprint="CD", serial="1", not_before=now, not_after=now)
    web = Client()
    web.force_login(make_user("alice", "admin"))
    page = web.get(f"/certificates/cas/{ca.pk}/delete/").content.decode()
    assert "CA lab-ca cannot be removed" in page and "1 issued certificates block the deletion" in page
    assert "CA-KEY-CANARY" not in page
    issued.delete()
    page = web.get(f"/certificates/cas/{ca.pk}/delete/").content.decode()
    assert "Remove CA lab-ca?" in page and "export it first" in page and "CA-KEY-CANARY" not in page
    assert ManagedCA.objects.filter(pk=ca.pk).exists()  # asking is not doing
    assert web.post(f"/certificates/cas/{ca.pk}/delete/").status_code == 302
    assert not ManagedCA.objects.filter(pk=ca.pk).exists()
    entry = ActionLogEntry.objects.get(action="certificates.ca.delete")
    assert entry.before and entry.before.get("name") == "lab-ca"
