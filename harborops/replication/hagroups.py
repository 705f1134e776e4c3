"""HA groups read in bulk: what the HA pair pages, the pair API and the replication conditions need about
any number of groups, in a fixed number of queries (issue 15: a page's query count must not grow with the
fleet). Reading it group by group cost ~15 queries per group (members, pair, sides, loop-risk policies,
GC state) and decrypted every member's password on load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from harborops.fleet.models import HAGroup, Instance
from harborops.replication.models import HAPair, PairSide, Policy

# Columns of an instance no HA group page, check or condition reads; the password would be decrypted
# for every row loaded (core/fields.py), the others are large.
INSTANCE_DEFERRED = ("password", "ca_bundle", "notes", "statistics")


def deferred(relation: str = "") -> tuple[str, ...]:
    """INSTANCE_DEFERRED for ``.defer()``, through ``relation`` (e.g. "instance") when given."""
    return tuple(f"{relation}__{f}" for f in INSTANCE_DEFERRED) if relation else INSTANCE_DEFERRED


def light_instances() -> QuerySet[Instance]:
    return Instance.objects.defer(*deferred())


def pairs_with_sides() -> QuerySet[HAPair]:
    return HAPair.objects.prefetch_related(
        Prefetch("sides", queryset=PairSide.objects.select_related("instance").defer("robot_secret",
                                                                                    *deferred("instance"))))


@dataclass
class GroupData:
    members: dict[int, list[Instance]]  # group id -> every member, by name
    pairs: dict[int, HAPair]  # group id -> what harborops set up (sides and their instances prefetched)
    pushes: dict[int, list[Policy]]  # group id -> members' enabled event-based push policies (loop risk)
    gc_runs: dict[int, list[str]] | None  # instance id -> what runs GC on it (shared-storage members); None: not read

    def all_members(self, group: HAGroup) -> list[Instance]:
        return self.members.get(group.pk, [])

    def enabled_members(self, group: HAGroup) -> list[Instance]:
        return [i for i in self.all_members(group) if i.enabled]


def load(groups: Sequence[HAGroup], *, gc: bool = True) -> GroupData:
    """Everything about ``groups`` in at most seven queries, whatever their number and size; ``gc=False``
    leaves out what runs GC (only the shared-storage check reads it)."""
    ids = [g.pk for g in groups]
    members: dict[int, list[Instance]] = {pk: [] for pk in ids}
    for inst in light_instances().filter(ha_group__in=ids).select_related("ha_group").order_by("name"):
        members[inst.ha_group_id or 0].append(inst)
    pushes: dict[int, list[Policy]] = {pk: [] for pk in ids}
    policies = (Policy.objects.filter(instance__ha_group__in=ids, direction="push", enabled=True,
                                      trigger_type="event_based")
                .select_related("instance").defer(*deferred("instance")))
    for p in policies:
        pushes[p.instance.ha_group_id or 0].append(p)
    shared = [i for g in groups if g.mode == HAGroup.Mode.SHARED_STORAGE for i in members[g.pk]]
    return GroupData(members, {p.group_id: p for p in pairs_with_sides().filter(group__in=ids)}, pushes,
                     (gc_runs(shared) if shared else {}) if gc else None)


def gc_runs(members: Sequence[Instance]) -> dict[int, list[str]]:
    """What collects garbage on each of ``members`` (instances of shared-storage groups, ``ha_group``
    loaded): Harbor's own GC schedule as the maintenance check last read it, and harborops GC policies with
    a cron whose run includes the member (maintenance collects on one member of a shared-storage group).

    A policy's targets are worked out on the enabled members only: whether a member is a target depends on
    the member itself (label, list, all) and on the other members of its group (HA expansion, and which
    one collects for the group), never on instances outside the group, so the answer is the one
    ``target_instances`` gives on the whole fleet, without loading it."""
    from harborops.maintenance.models import GCPolicy, InstanceGC
    from harborops.maintenance.services.policies import shared_storage_split, target_instances

    runs: dict[int, list[str]] = {i.pk: [] for i in members}
    for state in InstanceGC.objects.filter(instance__in=list(runs)):
        if state.schedule_type and state.schedule_type.lower() != "none":
            runs[state.instance_id].append(f"Harbor schedule {state.schedule_type} {state.schedule_cron}".strip())
    fleet = [i for i in members if i.enabled]
    listed = Prefetch("instances", queryset=Instance.objects.only("pk"))  # targets=listed reads the ids only
    for policy in GCPolicy.objects.filter(enabled=True).exclude(cron="").prefetch_related(listed):
        for inst in shared_storage_split(target_instances(policy, fleet))[0]:
            runs[inst.pk].append(f"harborops GC policy {policy.name}")
    return runs
