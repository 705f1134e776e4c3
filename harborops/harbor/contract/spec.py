"""Loading the spec extract, Swagger 2.0 → JSON Schema draft 4, and path matching.

Conversion rules (how go-swagger, which Harbor is built with, reads the spec):
* ``x-nullable`` / ``x-isnullable: true`` → ``null`` is allowed; otherwise it is not.
* ``type: object`` with no ``properties``/``additionalProperties``/``allOf`` is Go's
  ``interface{}``: any JSON value (e.g. ``Schedule.parameters`` values are bools and ints although
  the spec says ``additionalProperties: {type: object}``).
* ``type: file`` is a byte stream, never validated as JSON.
* integer ``format`` (int8/int32/int64/uint64/int) → range; ``date-time`` → RFC 3339 check.
* ``additionalProperties`` absent means extra properties are allowed (same in both).
* ``readOnly``, ``x-omitempty``, ``x-go-type``, ``x-sample-body`` are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

from harborops.harbor.capabilities import spec_minor

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"

_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")
_SWAGGER_ONLY = frozenset({"readOnly", "discriminator", "xml", "externalDocs", "example", "collectionFormat"})

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


def _int_range_checker(fmt: str) -> None:
    low, high = _INT_RANGES[fmt]

    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return low <= value <= high

    FORMATS.checks(fmt)(check)


for _fmt in _INT_RANGES:
    _int_range_checker(_fmt)


def to_draft4(node: Any) -> Any:
    """Convert one Swagger 2.0 schema (recursively) to JSON Schema draft 4."""
    if isinstance(node, list):
        return [to_draft4(x) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        out: dict[str, Any] = {"$ref": ref}
        if node.get("x-nullable") or node.get("x-isnullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if node.get("type") == "file":
        return {}
    out = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _SWAGGER_ONLY:
            continue
        if key == "properties":
            out[key] = {k: to_draft4(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "not", "anyOf", "oneOf"):
            out[key] = to_draft4(value) if not isinstance(value, bool) else value
        elif key == "format" and node.get("type") not in ("integer", "string", "number"):
            continue
        else:
            out[key] = value
    if out.get("type") == "object" and not ({"properties", "additionalProperties", "allOf"} & out.keys()):
        out.pop("type")  # Go interface{}: anything
    if node.get("x-nullable") or node.get("x-isnullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass
class Operation:
    method: str
    template: str
    raw: dict[str, Any]
    params: list[dict[str, Any]] = field(default_factory=list)

    def param(self, location: str, name: str) -> dict[str, Any] | None:
        for p in self.params:
            if p["in"] == location and (
                p["name"] == name or (location == "header" and p["name"].lower() == name.lower())
            ):
                return p
        return None

    @property
    def body_param(self) -> dict[str, Any] | None:
        return next((p for p in self.params if p["in"] == "body"), None)


class Spec:
    """One version's extract, with compiled path patterns and cached validators."""

    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self.data = data
        self.definitions = {k: to_draft4(v) for k, v in data["definitions"].items()}
        self._validators: dict[str, Draft4Validator] = {}
        self.templates: list[tuple[str, list[str]]] = []
        for template in data["paths"]:
            self.templates.append((template, template.strip("/").split("/")))

    def operation(self, method: str, template: str) -> Operation | None:
        ops = self.data["paths"].get(template, {})
        raw = ops.get(method.lower())
        if raw is None:
            return None
        return Operation(method.upper(), template, raw, list(raw.get("parameters", [])))

    def operations(self) -> list[tuple[str, str]]:
        return sorted((m.upper(), p) for p, ops in self.data["paths"].items() for m in ops)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """Best template for a raw (percent-encoded) path: literal segments beat parameters."""
        segs = path.strip("/").split("/")
        best: tuple[tuple[bool, ...], str, dict[str, str]] | None = None
        for template, tsegs in self.templates:
            if len(tsegs) != len(segs):
                continue
            params: dict[str, str] = {}
            score: list[bool] = []
            for t, s in zip(tsegs, segs, strict=True):
                if t.startswith("{") and t.endswith("}"):
                    if not s:
                        break
                    params[t[1:-1]] = s
                    score.append(False)
                elif t == s:
                    score.append(True)
                else:
                    break
            else:
                key = tuple(score)
                if best is None or key > best[0]:
                    best = (key, template, params)
        return (best[1], best[2]) if best else None

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            root = {**to_draft4(schema), "definitions": self.definitions}
            found = Draft4Validator(root, format_checker=FORMATS)
            self._validators[key] = found
        return found

    def is_object_schema(self, schema: dict[str, Any]) -> bool:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self.data["definitions"].get(ref.rsplit("/", 1)[-1], {})
            return target.get("type", "object") == "object" and "items" not in target
        return schema.get("type", "object") == "object"


@cache
def load_spec(version: str) -> Spec:
    """Spec for an instance version (``2.13.0``, ``v2.10.0-abc``) or a spec name (``v2.13``)."""
    major, minor = spec_minor(version.lstrip("v") if version.count(".") >= 1 else version)
    name = f"v{major}.{minor}"
    with (SPEC_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        return Spec(name, json.load(fh))
