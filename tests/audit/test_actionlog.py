from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.audit.services import record
from harborops.core.actor import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_records_actor_request_and_a_diff(bob: User):
    actor = Actor(user=bob, name="bob", request_id="req-1", source_ip="127.0.0.9")
    entry = record(actor=actor, action="instance.update", obj=bob, before={"url": "a", "labels": {"env": "x"}},
                   after={"url": "b", "labels": {"env": "x"}}, message="changed")
    assert entry.user == bob and entry.request_id == "req-1" and entry.source_ip == "127.0.0.9"
    assert entry.object_type == "auth.user" and entry.object_id == str(bob.pk) and entry.object_repr == "bob"
    assert entry.diff() == [("url", "a", "b")]


def test_it_masks_secret_shapes_in_before_after_and_message(bob: User):
    entry = record(actor=Actor.system(), action="x", object_type="t", after={"dsn": "redis://u:s3cret@h/0"},
                   message="password=s3cret")
    assert "s3cret" not in str(entry.after) and "s3cret" not in entry.message


def test_a_user_action_through_a_page_lands_in_the_log_with_request_id_and_ip(alice: User, vera: User):
    client = Client(REMOTE_ADDR="127.0.0.7")
    client.force_login(alice)
    r = client.post(f"/users/{vera.pk}/role/", {"role": "operator"}, HTTP_X_REQUEST_ID="abc-123")
    assert r.status_code == 302 and r["X-Request-Id"] == "abc-123"
    entry = ActionLogEntry.objects.get(action="user.role")
    assert (entry.actor_name, entry.request_id, entry.source_ip) == ("alice", "abc-123", "127.0.0.7")
    assert entry.before == {"role": "viewer"} and entry.after == {"role": "operator"}


def test_the_page_filters_and_the_api_shares_the_filters(vera: User):
    record(actor=Actor.system("beat"), action="instance.create", object_type="fleet.instance", object_repr="eu-1")
    record(actor=Actor.system("bob"), action="mapping.apply", object_type="access.mapping", object_repr="team-a")
    client = Client()
    client.force_login(vera)
    page = client.get("/audit/actions/?object_type=fleet.instance").content.decode()
    assert "eu-1" in page and "team-a" not in page
    assert "team-a" in client.get("/audit/actions/?q=team").content.decode()
    api = APIClient()
    api.force_login(vera)
    results = api.get("/api/action-log/?action=mapping.").json()["results"]
    assert [e["object_repr"] for e in results] == ["team-a"]
    detail = client.get(f"/audit/actions/{ActionLogEntry.objects.get(object_repr='eu-1').pk}/")
    assert detail.status_code == 200


def test_an_invalid_filter_is_reported_not_crashing(vera: User):
    client = Client()
    client.force_login(vera)
    r = client.get("/audit/actions/?since=not-a-date")
    assert r.status_code == 200 and "Enter a valid date/time" in r.content.decode()
