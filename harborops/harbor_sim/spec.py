"""The simulator's view of Harbor's spec extract (`harborops/harbor/spec/vX.Y.json`).

Two uses: which endpoints a version has (a path the extract knows for some version but not for
this one is a 404, like Harbor's router), and `shape()`, which drops the fields of a response
object that the version's schema does not define (handlers build the newest superset).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent.parent / "harbor" / "spec"


@cache
def load(spec_name: str) -> dict[str, Any]:
    with (SPEC_DIR / f"{spec_name}.json").open() as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def _ops(spec_name: str) -> frozenset[tuple[str, str]]:
    paths = load(spec_name)["paths"]
    return frozenset((m.upper(), p) for p, ops in paths.items() for m in ops if m != "parameters")


@cache
def _known_templates() -> frozenset[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for f in SPEC_DIR.glob("v*.json"):
        out |= _ops(f.stem)
    return frozenset(out)


def has_operation(spec_name: str, method: str, template: str) -> bool:
    """False only when some version's extract knows the operation and this version's does not."""
    key = (method, template)
    if key not in _known_templates():
        return True
    return key in _ops(spec_name)


@cache
def _props(spec_name: str, name: str) -> dict[str, Any] | None:
    d = load(spec_name)["definitions"].get(name)
    if d is None or "properties" not in d:
        return None
    props: dict[str, Any] = d["properties"]
    return props


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def shape(spec_name: str, name: str, obj: Any) -> Any:
    """Keep only the properties `name` defines in this version (recursively through $refs)."""
    props = _props(spec_name, name)
    if props is None or not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        schema = props.get(key)
        if schema is None:
            continue
        sub = _ref(schema)
        if sub is not None and isinstance(value, dict):
            value = shape(spec_name, sub, value)
        elif schema.get("type") == "array" and isinstance(value, list):
            item_ref = _ref(schema.get("items") or {})
            if item_ref is not None:
                value = [shape(spec_name, item_ref, v) for v in value]
        out[key] = value
    return out


def definition_keys(spec_name: str, name: str) -> dict[str, Any]:
    return dict(_props(spec_name, name) or {})
