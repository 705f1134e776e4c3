"""Issue 15: the replication pages and the pair API read a fixed number of queries whatever the number of HA
pairs, policies and instances, and decrypt no secret (instance passwords, robot secrets) to show them."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.core import crypto
from harborops.fleet.models import HAGroup, Instance
from harborops.maintenance.models import GCPolicy, InstanceGC
from harborops.replication import hagroups, pairchecks, pairs
from harborops.replication.models import CollectState, HAPair, PairSide, Policy
from tests.support.queries import counts

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PAGES = ("/replication/", "/replication/?page=2", "/replication/pairs/", "/replication/topology/",
         "/replication/topology.svg", "/api/replication/pairs/", "/api/replication/topology/")


def _instance(name: str, group: HAGroup | None, version: str) -> Instance:
    inst = Instance.objects.create(name=name, url=f"https://{name}.example.test", username="admin",
                                   password="s3cret-pw", ha_group=group, version=version)
    CollectState.objects.create(instance=inst, last_error="refused" if name.endswith("a") else "")
    return inst


def _push(inst: Instance, to: Instance, name: str, health: str) -> Policy:
    return Policy.objects.create(instance=inst, harbor_id=Policy.objects.count() + 1, name=name, direction="push",
                                 remote_url=to.url, remote_name=to.name, trigger_type="event_based", enabled=True,
                                 health=health, filters=[{"type": "name", "value": "library/**"}])


def add_groups(k: int) -> HAGroup:
    """The k-th two-way pair (set up, inconsistent, pushing both ways: a loop risk, different minor versions)
    and the k-th shared-storage group (Harbor's GC on both members, a harborops GC policy)."""
    two_way = HAGroup.objects.create(name=f"pair-{k}", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
    a, b = _instance(f"p{k}a", two_way, "2.13.0"), _instance(f"p{k}b", two_way, "2.8.0")
    pair = HAPair.objects.create(group=two_way, projects=["library"], status=HAPair.Status.SET_UP, consistent=False,
                                 missing_count=2, missing={a.name: ["library/app@sha256:1"]})
    for inst in (a, b):
        PairSide.objects.create(pair=pair, instance=inst, robot_id=7, robot_name="robot$ha", robot_secret="r0bot",
                                registry_id=3, policy_id=4)
    _push(a, b, f"a-to-b-{k}", "failing")
    _push(b, a, f"b-to-a-{k}", "stuck")
    shared = HAGroup.objects.create(name=f"shared-{k}", mode=HAGroup.Mode.SHARED_STORAGE)
    for inst in (_instance(f"s{k}a", shared, "2.13.0"), _instance(f"s{k}b", shared, "2.13.1")):
        InstanceGC.objects.create(instance=inst, schedule_type="Weekly", schedule_cron="0 0 0 * * 0")
    return two_way


def _viewer(vera: User) -> tuple[Client, APIClient]:
    client, api = Client(), APIClient()
    client.force_login(vera)
    api.force_authenticate(vera)
    return client, api


def _get(client: Client, api: APIClient) -> Callable[[str], object]:
    return lambda url: (api if url.startswith("/api/") else client).get(url)


def test_the_pages_and_the_pair_api_read_as_many_queries_for_one_pair_as_for_three(vera: User) -> None:
    GCPolicy.objects.create(name="nightly", cron="0 3 * * *", targets=GCPolicy.Targets.ALL)
    first = add_groups(1)
    get = _get(*_viewer(vera))
    detail = (f"/replication/pairs/{first.pk}/", f"/api/replication/pairs/{first.pk}/")
    few = counts(get, PAGES + detail)
    for k in (2, 3):
        add_groups(k)
    target = Instance.objects.get(name="p1a")
    for k in range(60):  # more policies than a page of the list, and more instances than states shown
        _push(_instance(f"lone-{k:02d}", None, "2.13.0"), target, f"lone-{k:02d}", "healthy")
    assert counts(get, PAGES + detail) == few


def test_what_the_pair_api_says_for_every_group_at_once_is_what_it_says_for_each(vera: User) -> None:
    GCPolicy.objects.create(name="nightly", cron="0 3 * * *", targets=GCPolicy.Targets.ALL)
    for k in (1, 2):
        add_groups(k)
    _client, api = _viewer(vera)
    listed = {row["group"]: row for row in api.get("/api/replication/pairs/").json()}
    assert len(listed) == 4
    for group in HAGroup.objects.all():
        alone = api.get(f"/api/replication/pairs/{group.pk}/").json()
        assert alone == listed[group.pk]
        checks = {c["key"]: c for c in alone["checks"]}
        if group.mode == HAGroup.Mode.TWO_WAY_REPLICATION:
            assert checks["version_skew"]["severity"] == "warning" and alone["missing_count"] == 2
            assert [r["policy_name"] for r in alone["loop_risks"]] == [f"a-to-b-{group.name[-1]}"]
            assert [s["instance_name"] for s in alone["sides"]] == [f"p{group.name[-1]}a", f"p{group.name[-1]}b"]
        else:  # both members run Harbor's GC; the harborops policy collects on the first member only
            members = list(Instance.objects.filter(ha_group=group).order_by("name"))
            assert checks["gc_single"] == {**checks["gc_single"], "severity": "warning"}
            assert checks["gc_single"]["detail"] == pairchecks.gc_check(members).detail
            assert "harborops GC policy nightly" in checks["gc_single"]["detail"].split(";")[0]
            assert "harborops GC policy" not in checks["gc_single"]["detail"].split(";")[1]


def test_bulk_reads_give_what_each_group_read_alone_gives(vera: User) -> None:
    for k in (1, 2):
        add_groups(k)
    groups = list(HAGroup.objects.order_by("name"))
    data = hagroups.load(groups)
    for group in groups:
        alone = hagroups.load([group])
        assert [i.pk for i in data.all_members(group)] == [i.pk for i in alone.all_members(group)]
        assert [(r.policy.pk, r.back.pk, r.unbounded) for r in pairs.loop_risks(group, data)] == \
            [(r.policy.pk, r.back.pk, r.unbounded) for r in pairs.loop_risks(group)]
        assert pairchecks.checks(group, live=False, data=data) == pairchecks.checks(group, live=False)


def test_no_secret_is_decrypted_to_show_the_pages(vera: User) -> None:
    first = add_groups(1)
    get = _get(*_viewer(vera))
    with mock.patch.object(crypto, "decrypt", wraps=crypto.decrypt) as decrypt:
        counts(get, (*PAGES, f"/replication/pairs/{first.pk}/", f"/api/replication/pairs/{first.pk}/"))
    assert decrypt.call_count == 0


def test_the_policy_list_pages_worst_first_and_keeps_filters_across_pages(vera: User) -> None:
    hub = _instance("hub", None, "2.13.0")
    for k in range(65):
        _push(hub, hub, f"p-{k:02d}", "healthy" if k % 13 else "failing")  # 5 failing, 60 healthy
    client, _api = _viewer(vera)
    first = client.get("/replication/").content.decode()
    assert first.count('<tr id="policy-') == 50 and "1–50 of 65" in first
    assert first.index("p-00") < first.index("p-13") < first.index("p-01")  # failing ones first
    second = client.get("/replication/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert second.count('<tr id="policy-') == 15 and "<html" not in second and "51–65 of 65" in second
    assert "p-64" in second and "p-13" not in second
    healthy = client.get("/replication/?health=healthy&page=2").content.decode()
    assert healthy.count('<tr id="policy-') == 10 and "51–60 of 60" in healthy
    assert "health=healthy&amp;page=1" in healthy and 'class="health-failing"' not in healthy
    only_failing = client.get("/replication/?health=failing").content.decode()
    assert only_failing.count('<tr id="policy-') == 5 and 'id="policy-pager"' not in only_failing


def test_the_collection_table_shows_failed_instances_first_and_counts_them_all(vera: User) -> None:
    for k in range(60):
        _instance(f"i{k:02d}{'a' if k % 20 == 0 else 'x'}", None, "2.13.0")  # i00a, i20a, i40a failed
    client, _api = _viewer(vera)
    page = client.get("/replication/").content.decode()
    table = page[page.index('id="collect-states"'):]
    assert table.count("<tr><td>") == 50 and "60 instance(s), 3 failed" in page
    assert table.index("i00a") < table.index("i20a") < table.index("i40a") < table.index("i01x")


def test_the_policy_list_shows_the_most_severe_conditions_first_and_counts_them_all(vera: User) -> None:
    hub = _instance("hub", None, "2.13.0")
    for k in range(55):
        _push(hub, hub, f"p-{k:02d}", "lagging" if k else "stuck")  # 54 warnings, 1 critical (named last)
    Policy.objects.filter(name="p-00").update(name="z-stuck")
    client, _api = _viewer(vera)
    page = client.get("/replication/").content.decode()
    attention = page[page.index('id="attention"'):page.index('id="topology-card"')]
    assert attention.count("<li ") == 50 and "55, the first 50 shown" in attention
    assert attention.index("z-stuck") < attention.index("p-01")
