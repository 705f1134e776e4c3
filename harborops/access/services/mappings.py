"""Team mappings: create / change / delete (audited), and which instances each one targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.access.models import TeamMapping
from harborops.access.services import directory
from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.fleet.models import Instance

FIELDS = ("ldap_group_dn", "ldap_group_name", "project_name", "project_public", "project_quota_gib", "role",
          "targets", "target_label", "authoritative", "expand_nested", "notes")


def parse_label(label: str) -> tuple[str, str]:
    key, sep, value = label.partition("=")
    if not sep or not key.strip():
        raise ValidationError({"target_label": "write the label as key=value, e.g. env=prod"})
    return key.strip(), value.strip()


def target_instances(mapping: TeamMapping, fleet: Sequence[Instance] | None = None) -> list[Instance]:
    """Enabled instances the mapping targets; an HA group expands to every member (Harbor
    replication does not copy members, harbor #5041, so each member needs the same memberships)."""
    fleet = list(fleet) if fleet is not None else list(Instance.objects.filter(enabled=True))
    fleet = [i for i in fleet if i.enabled]
    if mapping.targets == TeamMapping.Targets.LABEL:
        key, value = parse_label(mapping.target_label)
        chosen = [i for i in fleet if str((i.labels or {}).get(key, "")) == value and key in (i.labels or {})]
    elif mapping.targets == TeamMapping.Targets.LISTED:
        listed = {i.pk for i in mapping.instances.all()}
        chosen = [i for i in fleet if i.pk in listed]
    else:
        chosen = fleet
    groups = {i.ha_group_id for i in chosen if i.ha_group_id}
    ids = {i.pk for i in chosen}
    chosen += [i for i in fleet if i.ha_group_id in groups and i.pk not in ids]
    return sorted(chosen, key=lambda i: i.name)


def _check(values: dict[str, Any], *, check_directory: bool) -> None:
    if values.get("targets") == TeamMapping.Targets.LABEL:
        parse_label(str(values.get("target_label") or ""))
    dn = str(values.get("ldap_group_dn") or "")
    try:
        directory.validate_dn(dn)
        if check_directory and directory.enabled():
            group = directory.get_group(dn)
            values["ldap_group_dn"] = group.dn
            values["ldap_group_name"] = values.get("ldap_group_name") or group.name
    except directory.DirectoryError as exc:
        raise ValidationError({"ldap_group_dn": str(exc)}) from None


def create_mapping(*, actor: Actor, instances: Iterable[Instance] = (), check_directory: bool = True,
                   **values: Any) -> TeamMapping:
    values = {k: v for k, v in values.items() if k in FIELDS}
    _check(values, check_directory=check_directory)
    mapping = TeamMapping(**values)
    mapping.full_clean(exclude=["instances"])
    with transaction.atomic():
        mapping.save()
        mapping.instances.set(list(instances))
        record(actor=actor, action="access.mapping.create", obj=mapping, before=None, after=mapping.snapshot())
    return mapping


def update_mapping(mapping: TeamMapping, *, actor: Actor, instances: Iterable[Instance] | None = None,
                   check_directory: bool = True, **values: Any) -> TeamMapping:
    before = mapping.snapshot()
    values = {k: v for k, v in values.items() if k in FIELDS}
    merged = {k: getattr(mapping, k) for k in FIELDS} | values
    if merged["ldap_group_dn"] != mapping.ldap_group_dn:
        merged["ldap_group_name"] = values.get("ldap_group_name", "")
    _check(merged, check_directory=check_directory and merged["ldap_group_dn"] != mapping.ldap_group_dn)
    for key, value in merged.items():
        setattr(mapping, key, value)
    mapping.full_clean(exclude=["instances"])
    with transaction.atomic():
        mapping.save()
        if instances is not None:
            mapping.instances.set(list(instances))
        record(actor=actor, action="access.mapping.update", obj=mapping, before=before, after=mapping.snapshot())
    return mapping


def delete_mapping(mapping: TeamMapping, *, actor: Actor) -> None:
    """The memberships it created stay on the Harbors until the next apply removes them."""
    before = mapping.snapshot()
    with transaction.atomic():
        record(actor=actor, action="access.mapping.delete", obj=mapping, before=before, after=None,
               message="memberships it created are removed by the next apply")
        mapping.delete()
