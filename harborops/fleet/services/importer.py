"""Bulk import of instances from CSV or YAML: every row is checked, and either all rows are
applied or none (a per-row error list says what to fix). A name that already exists updates that
instance (a blank password keeps the stored one), so importing the same file twice changes nothing.

CSV columns: ``name,url,username,password[,credential_kind,labels,ca_bundle,notes,enabled,ha_group]``
with ``labels`` as ``key=value;key=value``. YAML: a list of mappings with the same keys
(``labels`` a mapping), or ``{"instances": [...]}``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services import inventory

__all__ = ("ImportResult", "import_instances", "parse")

REQUIRED = ("name", "url", "username")
KNOWN = frozenset({*REQUIRED, "password", "credential_kind", "labels", "ca_bundle", "notes", "enabled", "ha_group"})
TRUE, FALSE = {"1", "true", "yes", "on", "y"}, {"0", "false", "no", "off", "n", ""}


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "row 3 (name): what is wrong"
    applied: bool = False


class _Rollback(Exception):
    pass


def _labels(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    labels: dict[str, str] = {}
    for item in str(value or "").replace(",", ";").split(";"):
        if item.strip():
            key, sep, val = item.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"label {item.strip()!r} is not key=value")
            labels[key.strip()] = val.strip()
    return labels


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"enabled must be true or false, not {value!r}")


def parse(text: str, fmt: str = "") -> list[dict[str, Any]]:
    """Rows as dicts; ``fmt`` is "csv" or "yaml" (guessed from the content when empty)."""
    fmt = fmt or ("csv" if text.lstrip().lower().startswith("name,") else "yaml")
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            have = ", ".join(reader.fieldnames or [])
            raise ValueError(f"the CSV header lacks {', '.join(missing)} (it has: {have})")
        return [{k: (v or "") for k, v in row.items() if k} for row in reader]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    if isinstance(data, dict) and "instances" in data:
        data = data["instances"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("YAML must be a list of instances (mappings), or {instances: [...]}")
    return data


def _fields(row: dict[str, Any], groups: dict[str, HAGroup]) -> dict[str, Any]:
    unknown = set(row) - KNOWN
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(sorted(unknown))}")
    missing = [c for c in REQUIRED if not str(row.get(c) or "").strip()]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing")
    out: dict[str, Any] = {k: str(row[k]).strip() for k in REQUIRED}
    out["password"] = str(row.get("password") or "")
    out["credential_kind"] = str(row.get("credential_kind") or Instance.CredentialKind.SYSADMIN).strip()
    out["labels"] = _labels(row.get("labels"))
    out["ca_bundle"] = str(row.get("ca_bundle") or "")
    out["notes"] = str(row.get("notes") or "")
    out["enabled"] = _bool(row.get("enabled", True))
    group = str(row.get("ha_group") or "").strip()
    if group and group not in groups:
        raise ValueError(f"no HA group named {group!r}")
    out["ha_group"] = groups.get(group) if group else None
    return out


def _same(instance: Instance, fields: dict[str, Any]) -> bool:
    password_same = not fields["password"] or fields["password"] == instance.password
    return password_same and all(getattr(instance, k) == v for k, v in fields.items() if k != "password")


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def import_instances(rows: list[dict[str, Any]], *, actor: Actor, dry_run: bool = False) -> ImportResult:
    result = ImportResult()
    groups = {g.name: g for g in HAGroup.objects.all()}
    existing = {i.name: i for i in Instance.objects.filter(name__in=[str(r.get("name", "")).strip() for r in rows])}
    seen: set[str] = set()
    try:
        with transaction.atomic():
            for n, row in enumerate(rows, start=1):
                label = f"row {n}" + (f" ({row.get('name')})" if row.get("name") else "")
                try:
                    fields = _fields(row, groups)
                    if fields["name"] in seen:
                        raise ValueError("the same name appears twice in this file")
                    seen.add(fields["name"])
                    current = existing.get(fields["name"])
                    if current is None:
                        if not fields["password"]:
                            raise ValueError("password missing (required for a new instance)")
                        with transaction.atomic():
                            inventory.create_instance(actor=actor, **fields)
                        result.created.append(fields["name"])
                    elif _same(current, fields):
                        result.unchanged.append(fields["name"])
                    else:
                        with transaction.atomic():
                            inventory.update_instance(current, actor=actor, **fields)
                        result.updated.append(fields["name"])
                except ValidationError as exc:
                    result.errors.append(f"{label}: {_message(exc)}")
                except ValueError as exc:
                    result.errors.append(f"{label}: {exc}")
            if result.errors or dry_run:
                raise _Rollback
    except _Rollback:
        return result
    result.applied = True
    return result
