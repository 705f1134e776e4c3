"""Access preflight: will a mapping "LDAP group → project role" actually give the group's users access
on each target Harbor? harborops can add the group as a member everywhere, and Harbor accepts it; but
Harbor attaches a user's LDAP groups only at login, and only like this
(``src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup``, ``src/pkg/ldap/ldap.go@v2.13.0 SearchUser,
searchGroup, UnderBaseDN``; the same from v2.3.0 to v2.15):

* the groups come only from the user entry's membership attribute
  (``ldap_group_membership_attribute``, default ``memberof``), never from a search of the groups'
  ``member`` / ``uniqueMember`` / ``memberUid``;
* when ``ldap_group_search_filter`` is empty, no group is attached at all;
* each group DN must lie under ``ldap_group_base_dn`` (``ldap_base_dn`` when that is empty), compared
  as DNs, lower-cased.

So, per mapping × target instance, these checks (each ``ok`` / ``failed`` / ``unknown``):

``config``        the instance's configuration can be read (GET /configurations needs a system
                  admin: a robot or a non-admin account, or an unreachable instance, is ``unknown``)
``auth_mode``     the auth mode is ``ldap_auth``
``group_filter``  ``ldap_group_search_filter`` is set
``group_base_dn`` the group's DN is under the group base DN
``member_attribute`` with harborops' own LDAP connection, a sample of the group's direct user members
                  (at most :data:`SAMPLE_SIZE`) carries the membership attribute naming the group
                  (a directory without OpenLDAP's memberof overlay fails here)

A mapping with a ``failed`` check is *ineffective* on that instance: the plan says so, and apply
refuses its changes there unless forced. ``unknown`` never blocks. One run reads each instance's
configuration once and samples each group (per attribute) once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import ldap
from django.conf import settings
from ldap.dn import str2dn

from harborops.access.models import TeamMapping
from harborops.access.services import directory
from harborops.access.services.mappings import target_instances
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors

SAMPLE_SIZE = 5  # group members whose entries are read per check (the first ones, sorted by DN)
CONCURRENCY = 16
OK, FAILED, UNKNOWN = "ok", "failed", "unknown"
STATUSES = (OK, FAILED, UNKNOWN)
COLORS = {OK: "success", FAILED: "failed", UNKNOWN: "unknown"}  # the pages' status-* classes
CHECKS = ("config", "auth_mode", "group_filter", "group_base_dn", "scope", "member_attribute")


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS
    status: str  # ok | failed | unknown
    reason: str  # short: "ldap_group_search_filter is empty"
    message: str  # the whole sentence: "Harbor eu-prod will not resolve cn=… for its members: …"

    @property
    def color(self) -> str:
        return COLORS[self.status]


@dataclass
class MappingCheck:
    """The preflight of one mapping (group DN) on one instance."""

    instance_id: int
    instance: str
    mapping_id: int | None
    group_dn: str
    mapping: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAILED]

    @property
    def ineffective(self) -> bool:
        return bool(self.failed)

    @property
    def status(self) -> str:
        if self.failed:
            return FAILED
        return UNKNOWN if any(f.status == UNKNOWN for f in self.findings) else OK

    @property
    def color(self) -> str:
        return COLORS[self.status]

    def summary(self) -> str:
        if self.failed:
            return f"ineffective on {self.instance}: " + "; ".join(f.reason for f in self.failed)
        unknown = [f.reason for f in self.findings if f.status == UNKNOWN]
        if unknown:
            return f"not verified on {self.instance}: " + "; ".join(unknown)
        return f"effective on {self.instance}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status, "ineffective": self.ineffective, "summary": self.summary()}


# --- DNs -----------------------------------------------------------------------------------------
def dn_key(dn: str) -> tuple[tuple[tuple[str, str], ...], ...] | None:
    """A DN as comparable RDNs (attribute types and values lower-cased, as Harbor's UnderBaseDN
    lower-cases both DNs before parsing); None when it does not parse."""
    try:
        rdns = str2dn(dn.strip().lower())
    except ldap.DECODING_ERROR:
        return None
    return tuple(tuple(sorted((a.strip(), v.strip()) for a, v, _ in rdn)) for rdn in rdns)


def same_dn(a: str, b: str) -> bool:
    ka, kb = dn_key(a), dn_key(b)
    return ka is not None and ka == kb


def under_dn(base: str, child: str) -> bool:
    """``child`` equals ``base`` or lies below it (DN-aware suffix match, case-insensitive)."""
    kb, kc = dn_key(base), dn_key(child)
    if kb is None or kc is None:
        return False
    return len(kc) >= len(kb) and kc[len(kc) - len(kb):] == kb


# --- one run: caches -----------------------------------------------------------------------------
Config = Mapping[str, Any]


class Run:
    """Caches for one preflight (or one plan): each instance's configuration and each group's member
    sample are fetched once however many mappings need them. Safe to share between the plan's threads."""

    def __init__(self) -> None:
        self._configs: dict[int, Config | str] = {}
        self._samples: dict[tuple[str, str], directory.MemberSample | str] = {}
        self._lock = threading.Lock()

    def config(self, instance: Instance) -> Config | str:
        """The configuration (key → value), or why it could not be read."""
        if instance.pk not in self._configs:
            self._configs[instance.pk] = read_config(instance)
        return self._configs[instance.pk]

    def remember(self, instance: Instance, config: Config | str) -> None:
        self._configs[instance.pk] = config

    def sample(self, group_dn: str, attribute: str) -> directory.MemberSample | str:
        key = (group_dn.lower(), attribute.lower())
        with self._lock:
            if key not in self._samples:
                try:
                    self._samples[key] = directory.member_attribute_sample(group_dn, attribute, limit=SAMPLE_SIZE)
                except directory.DirectoryError as exc:
                    self._samples[key] = str(exc)
            return self._samples[key]


def config_values(items: Mapping[str, Any]) -> dict[str, Any]:
    """GET /configurations items ({value, editable}) as key → value."""
    return {k: getattr(v, "value", v) for k, v in items.items()}


def read_config(instance: Instance) -> Config | str:
    try:
        with instance.client(timeout=float(getattr(settings, "ACCESS_APPLY_TIMEOUT", 15))) as client:
            return config_values(client.get_configurations())
    except harbor_errors.HarborError as exc:
        return f"cannot read configuration: {exc.message}"


# --- the checks ----------------------------------------------------------------------------------
def check(group_dn: str, instance: Instance, config: Config | str, run: Run, *,
          mapping: TeamMapping | None = None) -> MappingCheck:
    """Every check of one group on one instance whose configuration is ``config`` (or the error
    reading it). Pure apart from the member sample, which ``run`` caches."""
    result = MappingCheck(instance.pk, instance.name, mapping.pk if mapping else None, group_dn,
                          str(mapping) if mapping else group_dn)
    lead = f"Harbor {instance.name} will not resolve {group_dn} for its members"

    def add(check_id: str, status: str, reason: str) -> None:
        message = f"{lead}: {reason}" if status == FAILED else (
            f"Harbor {instance.name}: {group_dn} not verified: {reason}" if status == UNKNOWN
            else f"Harbor {instance.name}: {reason}")
        result.findings.append(Finding(check_id, status, reason, message))

    if isinstance(config, str):
        add("config", UNKNOWN, config)
        return result
    add("config", OK, "configuration read")
    auth_mode = str(config.get("auth_mode") or "unknown")
    if auth_mode == "ldap_auth":
        add("auth_mode", OK, "auth mode is ldap_auth")
    else:
        add("auth_mode", FAILED, f"auth mode is {auth_mode}, not ldap_auth (Harbor reads LDAP groups only "
                                 "when users log in through LDAP)")
    group_filter = str(config.get("ldap_group_search_filter") or "").strip()
    if group_filter:
        add("group_filter", OK, f"ldap_group_search_filter is {group_filter}")
    else:
        add("group_filter", FAILED, "ldap_group_search_filter is empty (Harbor attaches no LDAP group at login "
                                    "without it)")
    base = str(config.get("ldap_group_base_dn") or "").strip()
    base_key = "ldap_group_base_dn"
    if not base:
        base, base_key = str(config.get("ldap_base_dn") or "").strip(), "ldap_base_dn (ldap_group_base_dn is empty)"
    if not base:
        add("group_base_dn", OK, "no group base DN is set, so Harbor does not restrict where groups are")
    elif under_dn(base, group_dn):
        add("group_base_dn", OK, f"the group is under {base_key} {base}")
    else:
        add("group_base_dn", FAILED, f"the group is not under {base_key} {base}")
    _check_scope(config.get("ldap_scope"), add)
    attribute = str(config.get("ldap_group_membership_attribute") or "").strip() or "memberof"
    _check_members(group_dn, attribute, run, add)
    return result


def _check_scope(raw: Any, add: Any) -> None:
    """Harbor verifies each of a user's groups at login with a search based at the group's own DN, in
    ``ldap_scope`` — the *user* search scope (src/pkg/ldap/ldap.go@v2.13.0 searchGroup →
    SearchLdapAttribute ``s.basicCfg.Scope``; ``ldap_group_search_scope`` is never read). One level (1)
    excludes the base entry, so the group is never found and never attached."""
    try:
        scope = 2 if raw is None or raw == "" else int(raw)
    except (TypeError, ValueError):
        add("scope", UNKNOWN, f"ldap_scope is {raw!r}, not 0, 1 or 2")
        return
    if scope == 1:
        add("scope", FAILED, "ldap_scope is one level (1): Harbor verifies a group at login by searching at the "
                             "group's own DN with the user search scope, and one level leaves the group entry out "
                             "(ldap_group_search_scope does not change this; Harbor never reads it)")
    else:
        add("scope", OK, f"ldap_scope is {'base' if scope == 0 else 'subtree'} ({scope}): a search at the group's "
                         f"DN finds the group")


def _check_members(group_dn: str, attribute: str, run: Run, add: Any) -> None:
    if not directory.enabled():
        add("member_attribute", UNKNOWN, f"harborops' own LDAP is not configured (HARBOROPS_LDAP_URI), so the "
                                         f"members' {attribute} was not checked")
        return
    sample = run.sample(group_dn, attribute)
    if isinstance(sample, str):
        add("member_attribute", UNKNOWN, f"could not read the members' {attribute} in harborops' LDAP "
                                         f"directory: {sample}")
        return
    if not sample.users:
        add("member_attribute", UNKNOWN, f"the group has no user member to check {attribute} on")
        return
    lacking = [dn for dn, values in sample.users if not any(same_dn(v, group_dn) for v in values)]
    checked = len(sample.users)
    if not lacking:
        add("member_attribute", OK, f"{checked} of {checked} sampled members carry {attribute} naming the group")
        return
    names = ", ".join(_short(dn) for dn in lacking)
    if len(lacking) == checked:
        add("member_attribute", FAILED, f"none of {checked} sampled members ({names}) carries {attribute} naming "
                                        f"the group (does the directory maintain {attribute}, e.g. OpenLDAP's "
                                        f"memberof overlay?)")
    else:
        add("member_attribute", FAILED, f"{len(lacking)} of {checked} sampled members ({names}) lack {attribute} "
                                        f"naming the group")


def _short(dn: str) -> str:
    key = dn_key(dn)
    return key[0][0][1] if key and key[0] else dn


# --- whole runs ----------------------------------------------------------------------------------
def _fetch_configs(run: Run, instances: Iterable[Instance]) -> None:
    """Read the configurations concurrently: a dead instance costs its timeout once."""
    todo = {i.pk: i for i in instances}
    if not todo:
        return
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(todo))) as pool:
        for inst, config in zip(todo.values(), pool.map(read_config, todo.values()), strict=True):
            run.remember(inst, config)


def preflight(mapping_ids: Iterable[int] | None = None, *, run: Run | None = None) -> list[MappingCheck]:
    """Every mapping (or these) × each enabled instance it targets, ordered by mapping then instance."""
    run = run or Run()
    fleet = list(Instance.objects.filter(enabled=True).order_by("name"))
    mappings = TeamMapping.objects.prefetch_related("instances")
    if mapping_ids is not None:
        mappings = mappings.filter(pk__in=list(mapping_ids))
    pairs = [(m, i) for m in mappings for i in target_instances(m, fleet)]
    _fetch_configs(run, {i.pk: i for _, i in pairs}.values())
    return [check(m.ldap_group_dn, i, run.config(i), run, mapping=m) for m, i in pairs]


def preflight_group(group_dn: str, instances: Iterable[Instance]) -> list[MappingCheck]:
    """The checks for a group that has no mapping yet (the mapping form's "Check now")."""
    run = Run()
    chosen = list(instances)
    _fetch_configs(run, chosen)
    return [check(group_dn, i, run.config(i), run) for i in chosen]


def preflight_draft(group_dn: str, *, targets: str, target_label: str = "",
                    listed: Iterable[Instance] = ()) -> list[MappingCheck]:
    """The checks for a mapping being written (the form's and the wizard's "Check now"): the group on
    the instances the unsaved targets would reach (an HA group brings every member, as for a mapping).
    Raises ValidationError for a label that is not key=value."""
    fleet = list(Instance.objects.filter(enabled=True).order_by("name"))
    if targets == TeamMapping.Targets.LISTED:
        ids = {i.pk for i in listed}
        groups = {i.ha_group_id for i in fleet if i.pk in ids and i.ha_group_id}
        chosen = [i for i in fleet if i.pk in ids or (i.ha_group_id and i.ha_group_id in groups)]
    else:
        chosen = target_instances(TeamMapping(ldap_group_dn=group_dn, targets=targets, target_label=target_label),
                                  fleet)
    return preflight_group(group_dn, chosen)
