"""The clean-up report and deletions across instances, against simulated Harbors on real sockets:
the simulator's artifact filters as Harbor answers them, collection into tables, the report paged
server-side, dry run → confirm → deletion (one failing instance never stops the others), the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils.timezone import now

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.harbor import errors as e
from harborops.harbor.client import HarborClient
from harborops.harbor_sim.routes.artifacts import pull_artifact, push_artifact
from harborops.maintenance.models import (
    CleanupItem,
    CleanupPlan,
    CleanupScan,
    ProjectUsage,
    RepositoryUsage,
    UntaggedArtifact,
)
from harborops.maintenance.services import cleanup
from tests.maintenance.conftest import GCFleet

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(90)]
MB = 1024 * 1024


def client_for(fleet: GCFleet, n: int) -> HarborClient:
    return HarborClient(fleet.rows[n - 1].url, username="admin", password="Harbor12345")


def seed(fleet: GCFleet, n: int) -> None:
    """On instance n: library/app with two tagged and two untagged artifacts (a tag moved off one);
    library/old pushed 200 days ago and pulled 120 days ago; library/fresh pulled today."""
    inst = fleet.sim[n]
    push_artifact(inst, "library", "app", "1.0", 3 * MB)
    push_artifact(inst, "library", "app", "latest", 2 * MB)
    push_artifact(inst, "library", "app", "latest", 4 * MB)  # moves "latest": the 2 MB one is untagged now
    push_artifact(inst, "library", "app", None, 5 * MB)  # pushed by digest only
    old = push_artifact(inst, "library", "old", "v1", 1 * MB)
    repo = next(r for r in inst.store.repositories.values() if r.name == "library/old")
    repo.creation_time = old.push_time = inst.clock.now() - dt.timedelta(days=200)
    pull_artifact(inst, "library/old", "v1", at=inst.clock.now() - dt.timedelta(days=120))
    push_artifact(inst, "library", "fresh", "v1", 1 * MB)
    pull_artifact(inst, "library/fresh", "v1")


def run_job(job_id: int) -> JobRun:
    execute(job_id)
    return JobRun.objects.get(pk=job_id)


def test_the_simulator_filters_untagged_and_reports_pull_time_like_harbor(gc_fleet: GCFleet) -> None:
    seed(gc_fleet, 3)
    with client_for(gc_fleet, 3) as c:
        untagged = c.list_artifacts("library", "app", q="tags=nil")
        tagged = c.list_artifacts("library", "app", q="tags=*", with_tag=True)
        one = c.list_artifacts("library", "app", q="tags=latest", with_tag=True)
        fuzzy = c.list_artifacts("library", "app", q="tags=~ate", with_tag=True)
        assert sorted(a.size for a in untagged) == [2 * MB, 5 * MB] and all(not a.tags for a in untagged)
        assert sorted(a.size for a in tagged) == [3 * MB, 4 * MB]
        assert [a.size for a in one] == [4 * MB] and [a.size for a in fuzzy] == [4 * MB]
        with pytest.raises(e.HarborError) as err:
            c.list_artifacts("library", "app", q="tags=[1~2]")
        assert err.value.status == 400
        # never pulled: Go's zero time, not null; a pull only ever moves pull_time forward
        never = c.list_artifacts("library", "app", q="tags=1.0")[0]
        assert never.pull_time is not None and never.pull_time.year == 1
        pull_artifact(gc_fleet.sim[3], "library/old", "v1", at=gc_fleet.sim[3].clock.now() - dt.timedelta(days=300))
        old = c.list_artifacts("library", "old")[0]
        assert old.pull_time is not None and (now() - old.pull_time).days == 120
        assert next(r for r in c.list_repositories("library") if r.name == "library/old").pull_count == 2


def test_it_collects_the_report_and_one_unreadable_instance_keeps_its_rows(gc_fleet: GCFleet) -> None:
    for n in (1, 2, 3):
        seed(gc_fleet, n)
    with client_for(gc_fleet, 2) as c:
        quota = next(q for q in c.list_quotas() if q.ref is not None and q.ref.name == "library")
        c.set_quota(quota.id, 20 * MB)  # 16 MB used of 20: 80 %
    gc_fleet.rows[3].password = "wrong"
    gc_fleet.rows[3].save()
    ok, failed = cleanup.scan_fleet()
    assert (ok, failed) == (3, 1)
    assert "401" in CleanupScan.objects.get(instance=gc_fleet.rows[3]).error or \
        CleanupScan.objects.get(instance=gc_fleet.rows[3]).error
    lib = ProjectUsage.objects.get(instance=gc_fleet.rows[0], name="library")
    assert (lib.untagged_count, lib.untagged_bytes, lib.artifacts, lib.repositories) == (2, 7 * MB, 6, 3)
    assert sorted(UntaggedArtifact.objects.filter(instance=gc_fleet.rows[0]).values_list("size", flat=True)) == [
        2 * MB, 5 * MB]
    over = list(cleanup.over_quota(0.8))
    assert [(p.instance.name, p.name) for p in over] == [("harbor-2", "library")]
    assert cleanup.over_quota(0.81).count() == 0
    stale = {(r.instance.name, r.name) for r in cleanup.unpulled(90)}
    assert stale == {(f"harbor-{n}", "library/old") for n in (1, 2, 3)}
    fresh = RepositoryUsage.objects.get(instance=gc_fleet.rows[0], name="library/fresh")
    assert fresh.last_pull is not None and fresh.pull_count == 1
    # the unreadable instance keeps what it had; a later failure does not wipe a good collection
    gc_fleet.rows[0].password = "wrong"
    gc_fleet.rows[0].save()
    cleanup.scan_instance(gc_fleet.rows[0])
    assert UntaggedArtifact.objects.filter(instance=gc_fleet.rows[0]).count() == 2
    assert CleanupScan.objects.get(instance=gc_fleet.rows[0]).error


def test_the_report_pages_server_side(gc_fleet: GCFleet, client: Client, vera: Any) -> None:
    for i in range(60):
        push_artifact(gc_fleet.sim[1], "library", f"r{i % 3}", None, 1000 + i)
    cleanup.scan_fleet()
    client.force_login(vera)
    first = client.get("/maintenance/cleanup/").content.decode()
    assert first.count('<tr data-repository="library/r') == 50 and "page 1 of 2" in first
    second = client.get("/maintenance/cleanup/?section=untagged&page=2").content.decode()
    assert second.count('<tr data-repository="library/r') == 10
    only = client.get("/maintenance/cleanup/?section=untagged&project=nope").content.decode()
    assert "Nothing to show." in only
    api = client.get("/api/maintenance/cleanup/untagged/?limit=20&offset=40").json()
    assert api["count"] == 60 and len(api["results"]) == 20
    assert 'name="untagged"' not in first  # a viewer gets no selection boxes
    assert client.post("/maintenance/cleanup/new/", {"untagged": ["1"]}).status_code == 403


def test_dry_run_confirm_delete_across_instances_with_one_failing(gc_fleet: GCFleet, client: Client,
                                                                  bob: Any) -> None:
    for n in (1, 2, 3):
        seed(gc_fleet, n)
    cleanup.scan_fleet()
    client.force_login(bob)
    picked = list(UntaggedArtifact.objects.filter(instance__in=gc_fleet.rows[:3]).values_list("pk", flat=True))
    old = list(RepositoryUsage.objects.filter(instance__in=gc_fleet.rows[:2], name="library/old")
               .values_list("pk", flat=True))
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = client.post("/maintenance/cleanup/new/", {"untagged": [str(p) for p in picked],
                                                       "repository": [str(p) for p in old]})
    plan = CleanupPlan.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/maintenance/cleanup/{plan.pk}/"
    assert plan.items.count() == 8 and plan.status == "checking"
    # someone deletes one of them on harbor-1 before the dry run: it is "not there"
    gone = UntaggedArtifact.objects.filter(instance=gc_fleet.rows[0]).order_by("size").first()
    assert gone is not None
    with client_for(gc_fleet, 1) as c:
        c.delete_artifact("library", "library/app", gone.digest)
    assert plan.dry_run_job is not None
    assert run_job(plan.dry_run_job.pk).status == "succeeded"
    plan.refresh_from_db()
    assert plan.status == "checked"
    checks = dict(plan.items.filter(instance_name="harbor-1", kind="artifact")
                  .values_list("reference", "check_state"))
    assert checks[gone.digest] == "gone" and sorted(checks.values()) == ["gone", "present"]
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "7 items will be deleted on 3 instances: harbor-1, harbor-2, harbor-3" in page
    assert all(gc_fleet.sim[n].store.repositories for n in (1, 2, 3))  # nothing deleted by the dry run
    # harbor-2 goes down between the dry run and the confirmation: the others are still cleaned
    gc_fleet.rows[1].password = "wrong"
    gc_fleet.rows[1].save()
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = client.post(f"/maintenance/cleanup/{plan.pk}/confirm/")
    plan.refresh_from_db()
    assert plan.delete_job is not None and r["Location"] == f"/jobs/{plan.delete_job.pk}/"
    job = run_job(plan.delete_job.pk)
    assert job.status == "failed" and "4 deleted, 3 failed" in job.error
    results = {(i.instance_name, i.kind, i.result) for i in plan.items.all()}
    assert ("harbor-2", "repository", "failed") in results and ("harbor-3", "artifact", "deleted") in results
    for n in (1, 3):
        with client_for(gc_fleet, n) as c:
            assert c.list_artifacts("library", "app", q="tags=nil") == []
    with client_for(gc_fleet, 1) as c:
        assert "library/old" not in {r.name for r in c.list_repositories("library")}
    assert len(gc_fleet.sim[2].store.repositories) == 3  # harbor-2 untouched
    entries = ActionLogEntry.objects.filter(action__startswith="maintenance.cleanup.delete_")
    assert entries.filter(outcome="success").count() == 4 and entries.filter(outcome="failure").count() == 3
    assert entries.filter(action="maintenance.cleanup.delete_repository", object_repr="library/old on harbor-1",
                          actor_name=bob.username).exists()
    # the report forgets what was deleted
    assert not UntaggedArtifact.objects.filter(instance__in=[gc_fleet.rows[0], gc_fleet.rows[2]]).exists()
    assert ProjectUsage.objects.get(instance=gc_fleet.rows[2], name="library").untagged_count == 0
    # a plan is confirmed once
    again = client.post(f"/maintenance/cleanup/{plan.pk}/confirm/")
    assert again.status_code == 302 and JobRun.objects.filter(kind="maintenance.cleanup_delete").count() == 1


def test_the_api_deletes_tags_and_repositories_on_several_instances(gc_fleet: GCFleet, client: Client,
                                                                   bob: Any, vera: Any) -> None:
    for n in (1, 2):
        seed(gc_fleet, n)
    body = {"add_items": [{"instance": f"harbor-{n}", "kind": kind, "repository": repo, "reference": ref}
                          for n in (1, 2) for kind, repo, ref in (("tag", "library/app", "1.0"),
                                                                  ("repository", "library/fresh", ""),
                                                                  ("tag", "library/app", "nope"))]}
    client.force_login(vera)
    assert client.post("/api/maintenance/cleanup/plans/", body, content_type="application/json").status_code == 403
    client.force_login(bob)
    bad = client.post("/api/maintenance/cleanup/plans/", {"add_items": [
        {"instance": "harbor-1", "kind": "tag", "repository": "app", "reference": "$(touch canary)"}]},
        content_type="application/json")
    assert bad.status_code == 400 and "not a repository name" in bad.content.decode()
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        made = client.post("/api/maintenance/cleanup/plans/", body, content_type="application/json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    run_job(made.json()["dry_run_job"])
    plan = client.get(f"/api/maintenance/cleanup/plans/{pk}/").json()
    assert plan["status"] == "checked"
    assert sorted((i["instance_name"], i["reference"], i["check_state"]) for i in plan["items"]
                  if i["kind"] == "tag") == [("harbor-1", "1.0", "present"), ("harbor-1", "nope", "gone"),
                                             ("harbor-2", "1.0", "present"), ("harbor-2", "nope", "gone")]
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        confirmed = client.post(f"/api/maintenance/cleanup/plans/{pk}/confirm/")
    assert confirmed.status_code == 202
    assert run_job(confirmed.json()["id"]).status == "succeeded"
    for n in (1, 2):
        with client_for(gc_fleet, n) as c:
            assert c.list_artifacts("library", "app", q="tags=1.0") == []
            assert len(c.list_artifacts("library", "app", q="tags=nil")) == 3  # the untagged 3 MB stays
            assert "library/fresh" not in {r.name for r in c.list_repositories("library")}
    assert CleanupItem.objects.filter(plan_id=pk, result="deleted").count() == 4
    assert ActionLogEntry.objects.filter(action="maintenance.cleanup.delete_tag").count() == 2


def test_references_are_parsed_for_each_chosen_instance(gc_fleet: GCFleet, client: Client, bob: Any) -> None:
    client.force_login(bob)
    form = client.get("/maintenance/cleanup/new/").content.decode()
    assert 'name="references"' in form
    refs = "library/app:1.0\nlibrary/app@sha256:" + "a" * 64 + "\n# a comment\nlibrary/old\n"
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = client.post("/maintenance/cleanup/new/", {"instances": [gc_fleet.rows[0].pk, gc_fleet.rows[2].pk],
                                                      "references": refs})
    assert r.status_code == 302
    items = sorted((i.instance_name, i.kind) for i in CleanupItem.objects.all())
    assert items == sorted([(f"harbor-{n}", k) for n in (1, 3) for k in ("tag", "artifact", "repository")])
    bad = client.post("/maintenance/cleanup/new/", {"instances": [gc_fleet.rows[0].pk],
                                                    "references": "library/app@sha256:xyz"})
    assert bad.status_code == 400 and "line 1" in bad.content.decode() and "is not a digest" in bad.content.decode()
    assert CleanupPlan.objects.count() == 1


def test_quota_and_unpulled_lists_in_the_page_and_the_api(gc_fleet: GCFleet, client: Client, vera: Any) -> None:
    seed(gc_fleet, 1)
    seed(gc_fleet, 3)
    with client_for(gc_fleet, 3) as c:
        quota = next(q for q in c.list_quotas() if q.ref is not None and q.ref.name == "library")
        c.set_quota(quota.id, 17 * MB)  # 16 of 17 MB: 94 %
    cleanup.scan_fleet()
    client.force_login(vera)
    page = client.get("/maintenance/cleanup/?section=quota&share=90").content.decode()
    assert page.count("<tr data-project=") == 1 and 'data-instance="harbor-3"' in page and "94 %" in page
    none = client.get("/maintenance/cleanup/?section=quota&share=95").content.decode()
    assert "No project at 95 % of its quota" in none
    stale = client.get("/maintenance/cleanup/?section=unpulled&days=100").content.decode()
    assert stale.count('<tr data-repository="library/old"') == 2 and 'data-repository="library/fresh"' not in stale
    assert "library/old" not in client.get("/maintenance/cleanup/?section=unpulled&days=130").content.decode()
    one = client.get(f"/maintenance/cleanup/?section=unpulled&days=100&instance={gc_fleet.rows[2].pk}").content.decode()
    assert one.count('<tr data-repository="library/old"') == 1
    assert client.get("/maintenance/cleanup/?section=bogus&days=x&share=-5").status_code == 200  # bad input: defaults
    over = client.get("/api/maintenance/cleanup/projects/?min_share=90").json()
    assert [(r["instance_name"], r["name"], round(r["quota_share"], 2)) for r in over["results"]] == [
        ("harbor-3", "library", 0.94)]
    assert client.get("/api/maintenance/cleanup/projects/?min_share=abc").status_code == 400
    untagged = client.get("/api/maintenance/cleanup/projects/?untagged=true").json()
    assert {(r["instance_name"], r["untagged_count"]) for r in untagged["results"]} == {
        ("harbor-1", 2), ("harbor-3", 2)}
    repos = client.get("/api/maintenance/cleanup/repositories/?unpulled_days=100&instance=harbor-1").json()
    assert [(r["name"], r["last_pull"] is not None) for r in repos["results"]] == [("library/old", True)]
