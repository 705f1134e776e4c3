"""Creating, changing and deleting instances: validated, encrypted, and audited without secrets."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services.inventory import create_instance, delete_instance, update_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

SECRET = "s3cr3t-Harbor-pw!"
ACTOR = Actor.system("tester")


def create(**kw: object) -> Instance:
    values: dict[str, object] = {"name": "prod-eu", "url": "https://harbor.invalid/", "username": "admin",
                                 "password": SECRET, "labels": {"env": "prod"}}
    values.update(kw)
    return create_instance(actor=ACTOR, **values)  # type: ignore[arg-type]


def test_it_creates_an_instance_and_audits_it_without_the_password() -> None:
    inst = create()
    assert inst.url == "https://harbor.invalid" and Instance.objects.get().password == SECRET
    with connection.cursor() as cur:
        cur.execute("SELECT password FROM fleet_instance")
        assert SECRET not in cur.fetchone()[0]  # encrypted at rest
    entry = ActionLogEntry.objects.get(action="fleet.instance.create")
    assert entry.before is None and entry.after is not None
    assert entry.after["password_state"] == "set" and entry.after["labels"] == {"env": "prod"}
    assert entry.actor_name == "tester" and entry.object_id == str(inst.pk)
    assert SECRET not in json.dumps(entry.after)


def test_it_audits_an_update_showing_only_whether_the_password_changed() -> None:
    inst = create()
    group = HAGroup.objects.create(name="eu", hostname="harbor.eu.invalid")
    update_instance(inst, actor=ACTOR, notes="moved", ha_group=group)
    update_instance(inst, actor=ACTOR, password="an0ther-Secret")
    first, second = ActionLogEntry.objects.filter(action="fleet.instance.update").order_by("pk")
    assert first.before is not None and first.after is not None
    assert (first.before["password_state"], first.after["password_state"]) == ("unchanged", "unchanged")
    assert (first.before["notes"], first.after["notes"]) == ("", "moved") and first.after["ha_group"] == "eu"
    assert second.after is not None and second.after["password_state"] == "set"
    for entry in (first, second):
        dumped = json.dumps([entry.before, entry.after])
        assert SECRET not in dumped and "an0ther-Secret" not in dumped
    assert Instance.objects.get().password == "an0ther-Secret"


def test_an_empty_password_keeps_the_old_one() -> None:
    inst = create()
    update_instance(inst, actor=ACTOR, password="", username="robot$ops", credential_kind="robot")
    assert Instance.objects.get().password == SECRET


def test_it_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        create(url="ftp://harbor.invalid")
    with pytest.raises(ValidationError):
        create(labels={"env": 3})
    create()
    with pytest.raises(ValidationError):
        create()  # duplicate name
    with pytest.raises(TypeError):
        update_instance(Instance.objects.get(), actor=ACTOR, status="up")
    assert ActionLogEntry.objects.filter(action="fleet.instance.create").count() == 1


def test_it_deletes_and_audits() -> None:
    inst = create()
    delete_instance(inst, actor=ACTOR)
    assert not Instance.objects.exists()
    entry = ActionLogEntry.objects.get(action="fleet.instance.delete")
    assert entry.after is None and entry.before is not None and entry.before["name"] == "prod-eu"
