"""Hysteresis over the sweeps: one timeout does not make an instance *down*.

Called by the sweep's writer (``fleet.services.sweep.record_probes``) with the probes it stored.
A probe *counts as good* when the instance answered at all (up, degraded, or it refused our
credentials / runs an unsupported version: it is there); *bad* when it is down (unreachable,
timeout, TLS, 5xx, not a Harbor answer). Our own crash (error kind ``internal``) counts as neither.

    state unknown/up --(N bad in a row, or bad for M minutes)--> down
    state down       --(K good in a row)----------------------> up
    state unknown    --(first good)---------------------------> up
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from django.db import transaction
from django.utils.timezone import now

from harborops.alerts.config import hysteresis_for
from harborops.alerts.models import InstanceAvailability
from harborops.fleet.models import Instance
from harborops.fleet.services.bulk_sql import update_from_values

State = InstanceAvailability.State
FIELDS = ("state", "consecutive_failures", "consecutive_successes", "since", "failing_since", "last_raw_ok",
          "last_probe_at", "updated_at")
GOOD_STATUSES = frozenset({Instance.Status.UP, Instance.Status.DEGRADED})
ANSWERED_KINDS = frozenset({Instance.ErrorKind.AUTH, Instance.ErrorKind.FORBIDDEN,
                            Instance.ErrorKind.UNSUPPORTED_VERSION})


class ProbeLike(Protocol):
    instance_id: int
    taken_at: dt.datetime
    status: str
    error_kind: str


def probe_ok(status: str, error_kind: str) -> bool | None:
    """True: the instance answered; False: it did not; None: nothing to learn (our own error)."""
    if status in GOOD_STATUSES or error_kind in ANSWERED_KINDS:
        return True
    if status == Instance.Status.DOWN:
        return False
    return None


def step(av: InstanceAvailability, ok: bool, at: dt.datetime, labels: dict[str, object]) -> bool:
    """Advance one instance's hysteresis by one probe; True when ``state`` changed."""
    h = hysteresis_for(labels)
    before = av.state
    av.last_raw_ok = ok
    av.last_probe_at = at
    if ok:
        av.consecutive_successes += 1
        av.consecutive_failures = 0
        av.failing_since = None
        if av.state == State.UNKNOWN or (av.state == State.DOWN and av.consecutive_successes >= h.up_after_successes):
            av.state = State.UP
    else:
        av.consecutive_failures += 1
        av.consecutive_successes = 0
        if av.failing_since is None:
            av.failing_since = at
        long_enough = h.down_after_minutes > 0 and at - av.failing_since >= dt.timedelta(minutes=h.down_after_minutes)
        if av.state != State.DOWN and (av.consecutive_failures >= h.down_after_failures or long_enough):
            av.state = State.DOWN
    if av.state != before:
        av.since = at
        return True
    return False


def record_sweep(probes: Iterable[ProbeLike]) -> int:
    """Feed a sweep's probes into each instance's hysteresis; returns how many states changed.

    Probes are applied in time order; one older than the instance's last counted probe (an
    overlapping sweep finishing late) is ignored, so a probe is never counted twice."""
    ordered = sorted(probes, key=lambda p: p.taken_at)
    if not ordered:
        return 0
    ids = {p.instance_id for p in ordered}
    changed = 0
    with transaction.atomic():
        labels = dict(Instance.objects.filter(pk__in=ids).values_list("pk", "labels"))
        existing = {a.instance_id: a for a in InstanceAvailability.objects.select_for_update().filter(
            instance_id__in=labels)}
        missing = labels.keys() - existing.keys()
        if missing:
            InstanceAvailability.objects.bulk_create([InstanceAvailability(instance_id=i) for i in missing],
                                                     ignore_conflicts=True)
            existing.update({a.instance_id: a for a in InstanceAvailability.objects.select_for_update().filter(
                instance_id__in=missing)})
        touched: dict[int, InstanceAvailability] = {}
        for p in ordered:
            av = existing.get(p.instance_id)
            ok = probe_ok(p.status, p.error_kind)
            if av is None or ok is None or (av.last_probe_at is not None and p.taken_at <= av.last_probe_at):
                continue
            changed += step(av, ok, p.taken_at, labels.get(p.instance_id) or {})
            touched[av.instance_id] = av
        stamp = now()
        for av in touched.values():
            av.updated_at = stamp
        update_from_values(list(touched.values()), FIELDS)  # one UPDATE … FROM (VALUES …), not CASE WHEN
    return changed


def availability_of(instance: Instance) -> InstanceAvailability | None:
    return InstanceAvailability.objects.filter(instance=instance).first()
