"""The consistency report: stored row by row (repository by repository), counted per project and member,
paged on its page and in the API, streamed as CSV; the scheduled check starts one job per set-up pair."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup
from harborops.harbor_sim import push_artifact
from harborops.replication import consistency, pairs
from harborops.replication.models import HAPair, MissingArtifact
from harborops.replication.tasks import check_pairs
from tests.replication.conftest import SimFleet
from tests.replication.test_pairs import ADMIN, group, run_job  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]


@pytest.fixture
def drifted(sims: SimFleet, group: HAGroup) -> tuple[HAGroup, list[Any]]:  # noqa: F811
    """A pair set up, then b stops replicating back and gets 130 artifacts of its own; one shared artifact
    loses a tag on a."""
    assert run_job(pairs.start_setup(group, ["library", "team"], actor=ADMIN)).status == "succeeded"
    for pid in list(sims.fleet[2].store.policies):
        sims.fleet[2].store.policies[pid]["enabled"] = False
    for pid in list(sims.fleet[1].store.policies):
        sims.fleet[1].store.policies[pid]["enabled"] = False
    lonely = [push_artifact(sims.fleet[2], "library", f"svc-{i % 7}", f"v{i}", 10) for i in range(130)]
    lonely.append(push_artifact(sims.fleet[2], "team", "cmd", "1", 10))
    shared = push_artifact(sims.fleet[1], "team", "base", "1.0", 10)
    push_artifact(sims.fleet[2], "team", "base", "1.0", 10, digest=shared.digest)
    push_artifact(sims.fleet[2], "team", "base", "stable", 10, digest=shared.digest)
    return group, lonely


def test_the_report_is_stored_counted_paged_and_exported(drifted: tuple[HAGroup, list[Any]], client: Client,
                                                         vera: User) -> None:
    group, lonely = drifted  # noqa: F811
    job = run_job(pairs.start_check(group, actor=ADMIN))
    assert job.summary == "eu pair: 132 artifact(s) missing"
    pair = HAPair.objects.get()
    assert pair.project_counts == {"library": {"harbor-1": 130, "harbor-2": 0}, "team": {"harbor-1": 2, "harbor-2": 0}}
    assert MissingArtifact.objects.filter(pair=pair).count() == 132 and len(pair.missing["harbor-1"]) == 132
    tags = MissingArtifact.objects.get(kind="tags")
    assert (tags.repository, tags.tags, tags.missing_on.name) == ("team/base", ["stable"], "harbor-1")

    client.force_login(vera)
    first = client.get(f"/replication/pairs/{group.pk}/report/").content.decode()
    assert "132 artifact(s) or tag(s) missing" in first and "page 1 of 2" in first
    assert first.count("<tr>") - 2 == 100 + 2  # 100 rows of the page, 2 project count rows (and the headers)
    second = client.get(f"/replication/pairs/{group.pk}/report/?page=2").content.decode()
    assert "page 2 of 2" in second and lonely[-1].digest in second

    r = client.get(f"/replication/pairs/{group.pk}/report.csv")
    assert r["Content-Type"].startswith("text/csv") and r.streaming
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))  # type: ignore[arg-type]
    assert rows[0] == list(consistency.CSV_HEADER) and len(rows) == 133
    assert {x.digest for x in lonely} <= {row[4] for row in rows}
    assert ["harbor-1", "harbor-2", "team", "team/cmd", lonely[-1].digest, "artifact", "1"] in rows
    assert consistency._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"  # a spreadsheet never runs a cell

    api = APIClient()
    api.force_authenticate(vera)
    body = api.get(f"/api/replication/pairs/{group.pk}/missing/?limit=10&project=team").json()
    assert body["count"] == 2 and {x["kind"] for x in body["results"]} == {"artifact", "tags"}
    assert api.get(f"/api/replication/pairs/{group.pk}/").json()["project_counts"]["library"]["harbor-1"] == 130

    # a new check replaces the report (no duplicates); teardown removes it
    assert run_job(pairs.start_check(group, actor=ADMIN)).summary == "eu pair: 132 artifact(s) missing"
    assert MissingArtifact.objects.count() == 132
    down = run_job(pairs.start_teardown(group, actor=ADMIN))
    assert down.status == "succeeded" and not MissingArtifact.objects.exists()


def test_the_scheduled_check_starts_a_job_per_set_up_pair(sims: SimFleet, group: HAGroup) -> None:  # noqa: F811
    assert check_pairs() == "no pair set up"
    assert run_job(pairs.start_setup(group, ["library"], actor=ADMIN)).status == "succeeded"
    before = JobRun.objects.filter(kind=pairs.CHECK).count()
    assert check_pairs() == "1 pair(s): eu pair"
    job = JobRun.objects.filter(kind=pairs.CHECK).order_by("-pk").first()
    assert JobRun.objects.filter(kind=pairs.CHECK).count() == before + 1 and job is not None
    assert run_job(job).summary == "eu pair: consistent"


def test_the_nightly_check_is_a_system_schedule() -> None:
    from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule

    entry = next(e for e in SYSTEM_SCHEDULES if e.env == "HARBOROPS_REPLICATION_PAIR_CHECK_CRON")
    assert (entry.task, entry.default_cron) == ("harborops.replication.tasks.check_pairs", "43 2 * * *")
    assert build_beat_schedule([entry], environ={"HARBOROPS_REPLICATION_PAIR_CHECK_CRON": "disable"}) == {}
