"""HA groups: two or more members, one group per instance, audited; pages and API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services.ha_groups import create_group, delete_group, update_group
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
ACTOR = Actor.system("test")


def test_a_group_needs_two_members_that_are_in_no_other_group(make_instance: MakeInstance):
    a, b, c = make_instance(1), make_instance(2), make_instance(3)
    with pytest.raises(ValidationError, match="two or more"):
        create_group(actor=ACTOR, name="solo", mode="shared_storage", members=[a])
    assert not HAGroup.objects.exists()
    pair = create_group(actor=ACTOR, name="pair", mode="two_way_replication", hostname="harbor.corp", members=[a, b])
    with pytest.raises(ValidationError, match=r"already in another HA group: harbor-2 \(in pair\)"):
        create_group(actor=ACTOR, name="other", mode="shared_storage", members=[b, c])
    update_group(pair, actor=ACTOR, members=[a, c])
    assert sorted(pair.instances.values_list("name", flat=True)) == ["harbor-1", "harbor-3"]
    assert Instance.objects.get(name="harbor-2").ha_group is None
    entry = ActionLogEntry.objects.get(action="fleet.hagroup.update")
    assert entry.before["members"] == ["harbor-1", "harbor-2"] and entry.after["members"] == ["harbor-1", "harbor-3"]
    delete_group(pair, actor=ACTOR)
    assert Instance.objects.count() == 3 and not Instance.objects.filter(ha_group__isnull=False).exists()


def test_an_admin_manages_groups_in_the_browser_and_a_viewer_reads_them(make_instance: MakeInstance, alice: User,
                                                                        vera: User):
    a, b = make_instance(1), make_instance(2)
    admin = Client()
    admin.force_login(alice)
    r = admin.post("/fleet/ha-groups/add/", {"name": "pair", "hostname": "harbor.corp", "mode": "shared_storage",
                                             "members": [a.pk]})
    assert r.status_code == 200 and b"two or more instances" in r.content
    r = admin.post("/fleet/ha-groups/add/", {"name": "pair", "hostname": "harbor.corp", "mode": "shared_storage",
                                             "members": [a.pk, b.pk]})
    assert r.status_code == 302
    viewer = Client()
    viewer.force_login(vera)
    page = viewer.get("/fleet/ha-groups/").content.decode()
    assert "pair" in page and "harbor.corp" in page and "harbor-1" in page and "harbor-2" in page
    detail = viewer.get(f"/fleet/{a.pk}/").content.decode()
    assert "pair (Shared storage) with" in detail and "harbor-2" in detail


def test_the_api_creates_changes_and_deletes_groups_by_instance_name(make_instance: MakeInstance, alice: User):
    make_instance(1), make_instance(2), make_instance(3)
    api = APIClient()
    api.force_authenticate(alice)
    r = api.post("/api/fleet/ha-groups/", {"name": "pair", "mode": "two_way_replication",
                                            "members": ["harbor-1", "harbor-2"]}, format="json")
    assert r.status_code == 201, r.json()
    gid = r.json()["id"]
    r = api.patch(f"/api/fleet/ha-groups/{gid}/", {"members": ["harbor-1"]}, format="json")
    assert r.status_code == 400 and "two or more" in str(r.json())
    r = api.patch(f"/api/fleet/ha-groups/{gid}/", {"members": ["harbor-2", "harbor-3"]}, format="json")
    assert r.status_code == 200 and sorted(r.json()["members"]) == ["harbor-2", "harbor-3"]
    assert api.get(f"/api/fleet/instances/?ha_group={gid}").json()["count"] == 2
    assert api.delete(f"/api/fleet/ha-groups/{gid}/").status_code == 204
    assert Instance.objects.count() == 3
