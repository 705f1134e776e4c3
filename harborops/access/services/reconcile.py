"""Plan / apply / drift: compare the team mappings with what each Harbor has, and make it so.

1. For every instance a mapping targets, read the instance: auth mode, LDAP user groups, and the
   members of every mapped project.
2. The plan lists, per instance, what would change: create the project, add the LDAP group as a
   member (``member_group.ldap_group_dn``, one call), change a role, add nested members as users,
   remove memberships harborops created whose mapping is gone (and, only for an *authoritative*
   mapping, members no mapping asks for).
3. Apply recomputes the plan at run time and executes it instance by instance (a re-apply finds
   nothing to do). Each membership harborops creates is recorded in ``ManagedMembership``, so only
   those are ever removed when a mapping goes away.
4. Drift is the same comparison, stored as findings instead of executed.

Instances with robot credentials cannot manage members (Harbor forbids robots the member and
usergroup APIs) and are skipped with "needs sysadmin credentials"; an instance not in LDAP mode
cannot have LDAP-group members and is skipped with what to change.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from harborops.access.models import ManagedMembership, TeamMapping
from harborops.access.services import directory, preflight
from harborops.access.services.mappings import target_instances
from harborops.access.services.preflight import MappingCheck
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors
from harborops.harbor.capabilities import ROLE_IDS, ROLE_NAMES
from harborops.harbor.client import HarborClient
from harborops.harbor.endpoints.access import normalise_dn

logger = logging.getLogger(__name__)
GIB = 1024**3
PLAN_CONCURRENCY = 16

NEEDS_SYSADMIN = ("needs sysadmin credentials: it is registered with a robot account, and Harbor does not let "
                  "robots manage members or LDAP groups; register a system admin user for it")


def role_label(role_id: int | None) -> str:
    return ROLE_NAMES.get(role_id or 0, str(role_id))


@dataclass
class Change:
    action: str  # create_project | import_users | add_group | add_user | change_role | remove_member | forget
    project: str
    entity: str = ""  # group DN, user name, or space-separated uids for import_users
    entity_type: str = ""  # "g" | "u"
    role_id: int | None = None
    old_role_id: int | None = None
    member_id: int | None = None
    mapping_id: int | None = None
    public: bool = False
    quota_gib: int | None = None
    reason: str = ""
    drift: str = ""  # DriftFinding.Kind this change would repair

    @property
    def sign(self) -> str:
        return {"remove_member": "-", "forget": "·", "change_role": "~"}.get(self.action, "+")

    def text(self) -> str:
        p = self.project
        if self.action == "create_project":
            quota = f"quota {self.quota_gib} GiB" if self.quota_gib else "no quota"
            return f"create project {p} ({'public' if self.public else 'private'}, {quota})"
        if self.action == "import_users":
            return f"import LDAP users {self.entity} (so they exist before their first login)"
        if self.action == "add_group":
            return f"add LDAP group {self.entity} to {p} as {role_label(self.role_id)}"
        if self.action == "add_user":
            return f"add user {self.entity} to {p} as {role_label(self.role_id)} ({self.reason or 'nested member'})"
        if self.action == "change_role":
            return f"change {self.entity} in {p}: {role_label(self.old_role_id)} → {role_label(self.role_id)}"
        if self.action == "remove_member":
            return f"remove {self.entity} from {p} ({self.reason})"
        return f"forget {self.entity} in {p} (already gone from Harbor)"


@dataclass
class InstancePlan:
    instance_id: int
    instance: str
    changes: list[Change] = field(default_factory=list)
    skipped: str = ""
    skip_kind: str = ""  # DriftFinding.Kind for a skip (needs_sysadmin / not_ldap / error)
    notes: list[str] = field(default_factory=list)
    preflight: list[MappingCheck] = field(default_factory=list)  # per mapping targeting it

    @property
    def has_work(self) -> bool:
        return bool(self.changes)

    @property
    def ineffective(self) -> list[MappingCheck]:
        """Mappings Harbor would not resolve here (apply refuses their changes unless forced)."""
        return [c for c in self.preflight if c.ineffective]


@dataclass
class Plan:
    instances: list[InstancePlan] = field(default_factory=list)

    @property
    def change_count(self) -> int:
        return sum(len(i.changes) for i in self.instances)

    @property
    def is_noop(self) -> bool:
        return self.change_count == 0

    @property
    def ineffective(self) -> list[MappingCheck]:
        return [c for i in self.instances for c in i.ineffective]

    def as_dict(self) -> dict[str, Any]:
        return {"change_count": self.change_count, "ineffective": [c.summary() for c in self.ineffective],
                "instances": [
            {**{k: v for k, v in asdict(i).items() if k not in ("changes", "preflight")},
             "changes": [{**asdict(c), "sign": c.sign, "text": c.text()} for c in i.changes],
             "preflight": [c.as_dict() for c in i.preflight],
             "ineffective": [c.summary() for c in i.ineffective]}
            for i in self.instances]}

    def text(self) -> str:
        """The readable diff: one block per instance."""
        lines: list[str] = []
        for ip in self.instances:
            lines.append(f"{ip.instance}:")
            if ip.skipped:
                lines.append(f"  ! skipped: {ip.skipped}")
            lines.extend(f"  {c.sign} {c.text()}" for c in ip.changes)
            lines.extend(f"  # {n}" for n in ip.notes)
            lines.extend(f"  ! {c.group_dn}: {c.summary()}" for c in ip.ineffective)
            if not ip.skipped and not ip.changes:
                lines.append("  = nothing to change")
        return "\n".join(lines) or "no instance is targeted by a mapping"


# --- reading -------------------------------------------------------------------------------------
def _client(instance: Instance) -> HarborClient:
    return instance.client(timeout=float(getattr(settings, "ACCESS_APPLY_TIMEOUT", 15)))


class _Expander:
    """Nested-member expansion, once per group DN per plan."""

    def __init__(self) -> None:
        self.cache: dict[str, set[str] | str] = {}

    def uids(self, dn: str) -> set[str] | str:
        key = dn.lower()
        if key not in self.cache:
            try:
                self.cache[key] = {u.lower() for u in directory.expand_members(dn).uids}
            except directory.DirectoryError as exc:
                self.cache[key] = str(exc)
        return self.cache[key]


def plan_instance(instance: Instance, mappings: list[TeamMapping], managed: list[ManagedMembership],
                  expander: _Expander, checks: preflight.Run | None = None) -> InstancePlan:
    ip = InstancePlan(instance.pk, instance.name)
    if instance.credential_kind == Instance.CredentialKind.ROBOT:
        ip.skipped, ip.skip_kind = NEEDS_SYSADMIN, "needs_sysadmin"
        return ip
    try:
        with _client(instance) as client:
            _plan_with_client(client, instance, ip, mappings, managed, expander, checks)
    except harbor_errors.HarborError as exc:
        ip.changes.clear()
        ip.skipped, ip.skip_kind = f"could not read the instance: {exc.message}", "error"
        if checks is not None and not ip.preflight:
            ip.preflight = [preflight.check(m.ldap_group_dn, instance, f"cannot read configuration: {exc.message}",
                                            checks, mapping=m) for m in mappings]
    return ip


def _plan_with_client(client: HarborClient, instance: Instance, ip: InstancePlan, mappings: list[TeamMapping],
                      managed: list[ManagedMembership], expander: _Expander,
                      checks: preflight.Run | None = None) -> None:
    config = client.get_configurations()
    if checks is not None:  # the preflight reuses the configuration just read
        values = preflight.config_values(config)
        ip.preflight = [preflight.check(m.ldap_group_dn, instance, values, checks, mapping=m) for m in mappings]
    auth_mode = str(config["auth_mode"].value) if "auth_mode" in config else "unknown"
    if auth_mode != "ldap_auth":
        if mappings or managed:
            ip.skipped, ip.skip_kind = (
                f"auth mode is {auth_mode}: LDAP groups cannot be members there; set Administration → "
                f"Configuration → Authentication → Auth Mode to LDAP (ldap_auth) and configure the directory",
                "not_ldap")
        return
    group_dn_by_id = {g.id: g.ldap_group_dn.lower() for g in client.list_usergroups() if g.ldap_group_dn}
    members_cache: dict[str, list[Any] | None] = {}

    def members(project: str) -> list[Any] | None:
        if project not in members_cache:
            members_cache[project] = client.list_members(project) if client.project_exists(project) else None
        return members_cache[project]

    def key_of(m: Any) -> tuple[str, str]:
        if m.entity_type == "g":
            return "g", group_dn_by_id.get(m.entity_id, f"#group-{m.entity_id}")
        return "u", m.entity_name.lower()

    managed_keys = {(r.project_name, r.entity_type, r.entity): r for r in managed}
    wanted: dict[tuple[str, str, str], tuple[int, TeamMapping]] = {}
    to_create: set[str] = set()
    for mapping in sorted(mappings, key=lambda m: (m.project_name, m.ldap_group_dn.lower())):
        project, role_id = mapping.project_name, ROLE_IDS[mapping.role]
        current = members(project)
        if current is None and project not in to_create:
            to_create.add(project)
            ip.changes.append(Change("create_project", project, public=mapping.project_public,
                                     quota_gib=mapping.project_quota_gib, mapping_id=mapping.pk,
                                     drift="missing_project"))
        by_key = {key_of(m): m for m in (current or [])}
        dn = mapping.ldap_group_dn.lower()
        wanted[(project, "g", dn)] = (role_id, mapping)
        existing = by_key.get(("g", dn))
        if existing is None:
            ip.changes.append(Change("add_group", project, mapping.ldap_group_dn, "g", role_id,
                                     mapping_id=mapping.pk, drift="missing"))
        elif existing.role_id != role_id:
            ip.changes.append(Change("change_role", project, mapping.ldap_group_dn, "g", role_id, existing.role_id,
                                     existing.id, mapping.pk, drift="wrong_role"))
        if mapping.expand_nested:
            uids = expander.uids(mapping.ldap_group_dn)
            if isinstance(uids, str):
                ip.notes.append(f"nested members of {mapping.group_label} not expanded: {uids}")
                continue
            missing_users = []
            for uid in sorted(uids):
                wanted.setdefault((project, "u", uid), (role_id, mapping))
                user_member = by_key.get(("u", uid))
                if user_member is None:
                    missing_users.append(uid)
                    ip.changes.append(Change("add_user", project, uid, "u", role_id, mapping_id=mapping.pk,
                                             reason=f"nested member of {mapping.group_label}", drift="missing"))
                elif user_member.role_id != role_id and (project, "u", uid) in managed_keys:
                    ip.changes.append(Change("change_role", project, uid, "u", role_id, user_member.role_id,
                                             user_member.id, mapping.pk, drift="wrong_role"))
            if missing_users:
                ip.changes.insert(len([c for c in ip.changes if c.action == "create_project"]),
                                  Change("import_users", project, " ".join(missing_users), "u",
                                         mapping_id=mapping.pk))

    # Memberships harborops created that no mapping asks for any more.
    for (project, etype, entity), row in sorted(managed_keys.items()):
        if (project, etype, entity) in wanted:
            continue
        current = members(project)
        member = next((m for m in current or [] if key_of(m) == (etype, entity)), None)
        reason = "its mapping was removed" if row.mapping_id is None else (
            "left the LDAP group" if etype == "u" else "the mapping no longer targets this instance or project")
        if member is None:
            ip.changes.append(Change("forget", project, entity, etype, mapping_id=row.mapping_id))
        else:
            ip.changes.append(Change("remove_member", project, entity if etype == "u" else row.entity, etype,
                                     old_role_id=member.role_id, member_id=member.id, mapping_id=row.mapping_id,
                                     reason=reason, drift="stale"))

    # Authoritative projects: members no mapping asks for go too (never the account harborops uses).
    for project in sorted({m.project_name for m in mappings if m.authoritative}):
        owner = next(m for m in mappings if m.authoritative and m.project_name == project)
        for member in members(project) or []:
            key = (project, *key_of(member))
            if key in wanted or key in managed_keys or (member.entity_type == "u"
                                                        and member.entity_name == instance.username):
                continue
            label = key[2] if member.entity_type == "g" else member.entity_name
            ip.changes.append(Change("remove_member", project, label, member.entity_type,
                                     old_role_id=member.role_id, member_id=member.id, mapping_id=owner.pk,
                                     reason="not in any mapping (authoritative project)", drift="extra"))


def compute_plan(mapping_ids: Iterable[int] | None = None) -> Plan:
    """The plan for every mapping (``None``: also removes what deleted mappings left behind), or
    only for the given mappings (their instances, their projects)."""
    fleet = list(Instance.objects.filter(enabled=True).select_related("ha_group").order_by("name"))
    mappings = list(TeamMapping.objects.prefetch_related("instances"))
    per_instance: dict[int, list[TeamMapping]] = {}
    for mapping in mappings:
        for inst in target_instances(mapping, fleet):
            per_instance.setdefault(inst.pk, []).append(mapping)
    managed_by_instance: dict[int, list[ManagedMembership]] = {}
    for row in ManagedMembership.objects.all():
        managed_by_instance.setdefault(row.instance_id, []).append(row)
    scope = set(mapping_ids) if mapping_ids is not None else None
    if scope is None:
        visit = [i for i in fleet if i.pk in per_instance or i.pk in managed_by_instance]
    else:
        visit = [i for i in fleet if any(m.pk in scope for m in per_instance.get(i.pk, []))]
    scoped_projects = {m.project_name for m in mappings if scope is not None and m.pk in scope}
    expander = _Expander()
    checks = preflight.Run()
    plan = Plan()

    def one(inst: Instance) -> InstancePlan:  # Harbor and LDAP only: no database access in the threads
        return plan_instance(inst, per_instance.get(inst.pk, []), managed_by_instance.get(inst.pk, []), expander,
                             checks)

    # Reading is independent per instance: a slow or dead instance costs its timeout once, not per
    # instance after it. Results keep the fleet's order.
    with ThreadPoolExecutor(max_workers=max(1, min(PLAN_CONCURRENCY, len(visit)))) as pool:
        for ip in pool.map(one, visit):
            if scope is not None:
                ip.changes = [c for c in ip.changes if c.mapping_id in scope or c.project in scoped_projects]
                ip.preflight = [c for c in ip.preflight if c.mapping_id in scope]
            plan.instances.append(ip)
    return plan


# --- applying ------------------------------------------------------------------------------------
@dataclass
class InstanceResult:
    instance: str
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: str = ""
    refused: list[str] = field(default_factory=list)  # changes of mappings ineffective here (not forced)
    forced: list[str] = field(default_factory=list)  # preflight summaries applied anyway (force)


def apply_instance(instance: Instance, ip: InstancePlan, *, say: Callable[[str, str], None],
                   force: bool = False) -> InstanceResult:
    """Execute one instance's changes in order; a failing change is reported with Harbor's own message
    and the rest continue (a project that could not be created skips its member changes). The changes
    of a mapping the preflight found ineffective here are refused unless ``force``."""
    result = InstanceResult(instance.name, skipped=ip.skipped)
    if ip.skipped:
        say("warning", f"{instance.name}: skipped: {ip.skipped}")
        return result
    ineffective = {c.mapping_id: c for c in ip.ineffective}
    if ineffective:
        concerned = [c for c in ip.changes if c.mapping_id in ineffective]
        for mapping_id, found in ineffective.items():
            texts = [c.text() for c in concerned if c.mapping_id == mapping_id]
            if not texts:
                continue
            if force:
                result.forced.append(f"{found.mapping}: {found.summary()}")
                say("warning", f"{instance.name}: forced: {found.mapping}: {found.summary()}")
            else:
                result.refused.extend(texts)
                say("warning", f"{instance.name}: refused {len(texts)} change{'s' if len(texts) > 1 else ''} of "
                               f"{found.mapping}: {found.summary()} (apply with force to make them anyway)")
        if not force:
            ip = InstancePlan(ip.instance_id, ip.instance, [c for c in ip.changes if c.mapping_id not in ineffective],
                              ip.skipped, ip.skip_kind, ip.notes, ip.preflight)
            if not ip.changes:
                return result
    if not ip.changes:
        say("info", f"{instance.name}: nothing to change")
        return result
    broken_projects: set[str] = set()
    with _client(instance) as client:
        for change in ip.changes:
            if change.project in broken_projects:
                result.failed.append(change.text())
                say("error", f"{instance.name}: {change.sign} {change.text()}: not done (project was not created)")
                continue
            try:
                _execute(client, instance, change)
            except harbor_errors.HarborError as exc:
                if change.action == "create_project":
                    broken_projects.add(change.project)
                result.failed.append(change.text())
                say("error", f"{instance.name}: {change.sign} {change.text()}: failed: {exc.message}")
            else:
                result.done.append(change.text())
                say("info", f"{instance.name}: {change.sign} {change.text()}: done")
    return result


def _track(instance: Instance, change: Change, role_id: int) -> None:
    entity = change.entity.lower() if change.entity_type == "g" else change.entity
    ManagedMembership.objects.update_or_create(
        instance=instance, project_name=change.project, entity_type=change.entity_type, entity=entity,
        defaults={"mapping_id": change.mapping_id, "role_id": role_id})


def _execute(client: HarborClient, instance: Instance, change: Change) -> None:
    if change.action == "create_project":
        with contextlib.suppress(harbor_errors.Conflict):  # created meanwhile: the goal is reached
            client.create_project(change.project, public=change.public,
                                  storage_limit=change.quota_gib * GIB if change.quota_gib else -1)
    elif change.action == "import_users":
        # Harbor's import is idempotent: a user already in Harbor is no failure, so every failure is real
        # (unknown_user, failed_search_user, failed to import user: …; src/pkg/ldap/manager.go ImportUser).
        failed = client.ldap_import_users(change.entity.split())
        if failed:
            raise harbor_errors.ValidationFailed("; ".join(f"{f.uid}: {f.error}" for f in failed))
    elif change.action in ("add_group", "add_user"):
        assert change.role_id is not None
        try:
            if change.action == "add_group":
                _add_group_member(client, change.project, change.role_id, change.entity)
            else:
                client.add_member(change.project, change.role_id, username=change.entity)
        except harbor_errors.Conflict:
            pass  # already a member: tracked below, the role is fixed by the next plan if needed
        _track(instance, change, change.role_id)
    elif change.action == "change_role":
        assert change.role_id is not None and change.member_id is not None
        client.update_member_role(change.project, change.member_id, change.role_id)
        ManagedMembership.objects.filter(
            instance=instance, project_name=change.project, entity_type=change.entity_type,
            entity=change.entity.lower() if change.entity_type == "g" else change.entity,
        ).update(role_id=change.role_id)
    elif change.action == "remove_member":
        assert change.member_id is not None
        with contextlib.suppress(harbor_errors.NotFound):
            client.remove_member(change.project, change.member_id)
        _forget(instance, change)
    elif change.action == "forget":
        _forget(instance, change)


def _add_group_member(client: HarborClient, project: str, role_id: int, dn: str) -> None:
    """Add an LDAP group by the id Harbor already has for it, else by its normalised DN.

    Harbor stores group DNs trimmed and lower-cased and looks a member's ``ldap_group_dn`` up by that exact
    value; a DN that misses it is on-boarded again, and one Harbor already stores in the directory's form is
    refused with its duplicate-group error (500) — on 2.3 every add of an existing group is (member
    controller.Create, src/core/auth/ldap/ldap.go OnBoardGroup). Adding by id avoids both.
    """
    existing = client.find_ldap_usergroup(dn)
    if existing is not None:
        client.add_member(project, role_id, group_id=existing.id)
    else:
        client.add_member(project, role_id, ldap_group_dn=normalise_dn(dn))


def _forget(instance: Instance, change: Change) -> None:
    ManagedMembership.objects.filter(
        instance=instance, project_name=change.project, entity_type=change.entity_type,
        entity=change.entity.lower() if change.entity_type == "g" else change.entity).delete()
