"""Scheduled fan-out into chunks, and the snapshot retention purge."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest.mock import patch

import pytest
from django.utils.timezone import now

from harborops.fleet import tasks
from harborops.fleet.models import HealthSnapshot, SweepRun
from harborops.fleet.services.sweep import purge_snapshots
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_enqueues_one_chunk_per_slice_of_enabled_instances(
        make_instance: MakeInstance, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.FLEET_SWEEP_CHUNK = 2
    ids = [make_instance(n).pk for n in range(1, 6)]
    make_instance(6, enabled=False)
    with (patch("harborops.fleet.tasks.sweep_chunk.apply_async") as apply_async,
          django_capture_on_commit_callbacks(execute=True)):
        summary = tasks.sweep_fleet()
    run = SweepRun.objects.get()
    assert (run.instances, run.chunks_total, run.finished_at) == (5, 3, None)
    assert [c.kwargs["args"] for c in apply_async.call_args_list] == [
        (ids[0:2], run.pk, 0), (ids[2:4], run.pk, 1), (ids[4:5], run.pk, 2)]
    assert [c.instance_ids for c in run.chunks.order_by("index")] == [ids[0:2], ids[2:4], ids[4:5]]
    assert {c.kwargs["queue"] for c in apply_async.call_args_list} == {"periodic"}
    assert all(c.kwargs["expires"] for c in apply_async.call_args_list)
    assert summary == f"5 instances in 3 chunks (sweep run {run.pk})"


def test_it_enqueues_nothing_for_an_empty_fleet(django_capture_on_commit_callbacks: Any) -> None:
    with (patch("harborops.fleet.tasks.sweep_chunk.apply_async") as apply_async,
          django_capture_on_commit_callbacks(execute=True)):
        tasks.sweep_fleet()
    assert not apply_async.called
    assert SweepRun.objects.get().finished_at is not None


def test_a_chunk_of_deleted_instances_is_harmless() -> None:
    assert tasks.sweep_chunk([987654]) == "0 instances swept (none); 0 status changes"


def test_it_purges_snapshots_older_than_the_retention(make_instance: MakeInstance, settings: Any) -> None:
    inst = make_instance(1)
    for days in (1, 13, 15, 40):
        HealthSnapshot.objects.create(instance=inst, taken_at=now() - dt.timedelta(days=days), status="up")
    assert purge_snapshots() == 2
    assert HealthSnapshot.objects.count() == 2
    settings.FLEET_SNAPSHOT_RETENTION_DAYS = 2
    assert tasks.purge_snapshots() == "1 snapshots deleted"
