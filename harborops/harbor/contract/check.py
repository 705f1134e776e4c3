"""check_request / check_response: one HTTP exchange against the version's spec extract."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from jsonschema import ValidationError

from harborops.harbor.contract.spec import Operation, Spec, load_spec

__all__ = ("ABSENT", "ContractViolation", "check_request", "check_response", "resolve")

ABSENT: Any = object()  # "no body at all", distinct from a JSON null
_INT = re.compile(r"^-?\d+$")
_NUM = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
# Statuses any go-swagger endpoint may answer although the operation does not declare them:
# auth middleware (401/403), swagger validation (422), panics/proxies (500/502/503/504).
IMPLICIT_STATUSES = frozenset({401, 403, 422, 500, 502, 503, 504})
# Error statuses Harbor's handlers really send although the spec omits them (api-notes.md, checked
# in the Go handlers): configuration validation, and "nothing found" on LDAP group search.
UNDECLARED_ERRORS = frozenset(
    {
        ("PUT", "/configurations", 400),
        ("GET", "/ldap/groups/search", 404),
        ("DELETE", "/projects/{project_name}/repositories/{repository_name}", 412),
        # robot names are unique: a duplicate create answers 409 CONFLICT (robot handler)
        ("POST", "/robots", 409),
        # adding a member by an LDAP group DN outside ldap_group_base_dn (or rejected by the group filter):
        # Auth.SearchGroup's NotFoundError (src/core/auth/ldap/ldap.go@v2.4.0..v2.15.0 SearchGroup)
        ("POST", "/projects/{project_name_or_id}/members", 404),
    }
)


class ContractViolation(AssertionError):
    """A request the real Harbor would reject, or a response it would never send."""

    def __init__(self, message: str, *, version: str = "", method: str = "", path: str = "") -> None:
        super().__init__(f"[{version}] {method} {path}: {message}" if method else message)
        self.version, self.method, self.path, self.detail = version, method, path, message


def resolve(version: str, method: str, path: str) -> tuple[Spec, Operation, dict[str, str]]:
    """Spec, operation and raw path parameters for a path relative to /api/v2.0."""
    spec = load_spec(version)
    found = spec.match(path.split("?", 1)[0])
    if found is None:
        raise ContractViolation(f"no such path in Harbor {spec.name}", version=version, method=method, path=path)
    template, params = found
    op = spec.operation(method, template)
    if op is None:
        allowed = ", ".join(m for m, t in spec.operations() if t == template)
        raise ContractViolation(
            f"{method} not allowed on {template} in {spec.name} (only {allowed})",
            version=version,
            method=method,
            path=path,
        )
    return spec, op, params


def _check_scalar(p: Mapping[str, Any], raw: str) -> str | None:
    """Why a string parameter value is invalid for parameter ``p``, or None."""
    typ = p.get("type", "string")
    value: Any = raw
    if typ == "integer":
        if not _INT.match(raw):
            return f"{p['in']} parameter {p['name']}={raw!r} is not an integer"
        value = int(raw)
    elif typ == "number":
        if not _NUM.match(raw):
            return f"{p['in']} parameter {p['name']}={raw!r} is not a number"
        value = float(raw)
    elif typ == "boolean":
        if raw not in ("true", "false"):
            return f"{p['in']} parameter {p['name']}={raw!r} is not true/false"
        value = raw == "true"
    if "enum" in p and value not in p["enum"]:
        return f"{p['in']} parameter {p['name']}={raw!r} not in {p['enum']}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "maximum" in p and value > p["maximum"]:
            return f"{p['in']} parameter {p['name']}={raw} exceeds maximum {p['maximum']} (Harbor answers 422)"
        if "minimum" in p and value < p["minimum"]:
            return f"{p['in']} parameter {p['name']}={raw} below minimum {p['minimum']}"
    if typ == "string":
        if "minLength" in p and len(raw) < p["minLength"]:
            return f"{p['in']} parameter {p['name']} shorter than {p['minLength']}"
        if "maxLength" in p and len(raw) > p["maxLength"]:
            return f"{p['in']} parameter {p['name']} longer than {p['maxLength']}"
        if "pattern" in p and not re.search(p["pattern"], raw):
            return f"{p['in']} parameter {p['name']}={raw!r} does not match {p['pattern']}"
    return None


def _schema_errors(spec: Spec, schema: dict[str, Any], body: Any, what: str) -> list[str]:
    errors = sorted(spec.validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [_fmt_error(what, err) for err in errors[:5]]


def _fmt_error(what: str, err: ValidationError) -> str:
    where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return f"{what}{where}: {err.message[:300]}"


def _items(query: Mapping[str, Any] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if query is None:
        return []
    if hasattr(query, "multi_items"):
        return list(query.multi_items())
    if isinstance(query, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in query.items():
            out.extend((k, str(x)) for x in (v if isinstance(v, list | tuple) else [v]))
        return out
    return list(query)


def check_request(
    version: str,
    method: str,
    path: str,
    query: Any = None,
    headers: Mapping[str, str] | None = None,
    body: Any = ABSENT,
) -> str:
    """Validate a request (path relative to /api/v2.0, raw/percent-encoded; query already
    decoded once; body = parsed JSON or ABSENT). Returns the spec path template."""
    method = method.upper()
    spec, op, path_params = resolve(version, method, path)
    problems: list[str] = []
    for name, raw in path_params.items():
        if "%2F" in raw.upper() and "%252F" not in raw.upper():
            problems.append(f"path parameter {name}={raw!r} has a single-encoded '/': Harbor needs %252F")
        p = op.param("path", name)
        if p is not None and (why := _check_scalar(p, unquote(raw))):
            problems.append(why)
    seen: set[str] = set()
    for name, value in _items(query):
        p = op.param("query", name)
        if p is None:
            known = sorted(x["name"] for x in op.params if x["in"] == "query")
            problems.append(f"unknown query parameter {name!r} (Harbor ignores it silently; known: {known})")
            continue
        if name in seen and p.get("type") != "array":
            problems.append(f"query parameter {name!r} repeated")
        seen.add(name)
        if p.get("type") != "array" and (why := _check_scalar(p, value)):
            problems.append(why)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    for p in op.params:
        if p["in"] == "header" and p["name"].lower() in hdrs and (why := _check_scalar(p, hdrs[p["name"].lower()])):
            problems.append(why)
        if p.get("required") and p["in"] in ("query", "path", "header"):
            present = {"query": seen, "path": set(path_params), "header": set(hdrs)}[p["in"]]
            if (p["name"].lower() if p["in"] == "header" else p["name"]) not in present:
                problems.append(f"missing required {p['in']} parameter {p['name']!r}")
    bp = op.body_param
    if bp is None and body is not ABSENT:
        problems.append(f"{op.template} takes no request body")
    elif bp is not None:
        if body is ABSENT:
            if bp.get("required"):
                problems.append(f"missing required body ({bp['name']})")
        else:
            ctype = hdrs.get("content-type", "")
            if "json" not in ctype:
                problems.append(f"body content-type {ctype!r} is not application/json")
            problems += _schema_errors(spec, bp.get("schema", {}), body, "body")
    if problems:
        raise ContractViolation("; ".join(problems), version=version, method=method, path=path)
    return op.template


def check_response(
    version: str,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    body: Any = ABSENT,
) -> str:
    """Validate a response (body = parsed JSON, ``str``/``bytes`` for text/file, or ABSENT if
    empty). Returns the spec path template."""
    method = method.upper()
    spec, op, _ = resolve(version, method, path)
    responses: dict[str, Any] = op.raw.get("responses", {})
    declared = responses[str(status)] if str(status) in responses else responses.get("default")
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    problems: list[str] = []
    if declared is None:
        if status not in IMPLICIT_STATUSES and (method, op.template, status) not in UNDECLARED_ERRORS:
            raise ContractViolation(
                f"status {status} not declared (declared: {sorted(responses)})",
                version=version,
                method=method,
                path=path,
            )
        declared = {"schema": {"$ref": "#/definitions/Errors"}} if "Errors" in spec.data["definitions"] else {}
    for name, h in (declared.get("headers") or {}).items():
        value = hdrs.get(name.lower())
        if value is None:
            if name in ("X-Total-Count", "Location"):
                problems.append(f"missing response header {name}")
            continue
        if h.get("type") == "integer" and not _INT.match(value):
            problems.append(f"response header {name}={value!r} is not an integer")
    schema = declared.get("schema")
    if schema is None and status >= 400 and body not in (ABSENT, b"", "") and "Errors" in spec.data["definitions"]:
        # Some errors are declared without a schema (e.g. 401/403 on GET /configurations), but
        # Harbor's error middleware always writes its Errors body: check it as that.
        schema = {"$ref": "#/definitions/Errors"}
    produces = op.raw.get("produces") or spec.data.get("produces") or ["application/json"]
    ctype = hdrs.get("content-type", "")
    if schema is None:
        if body not in (ABSENT, b"", "") and method != "HEAD":
            problems.append(f"status {status} declares no body but one was sent")
    elif schema.get("type") == "file":
        pass
    elif body is ABSENT:
        if method != "HEAD" and (not spec.is_object_schema(schema) or status >= 400):
            problems.append(f"status {status} must carry a body")
    elif isinstance(body, str | bytes):
        if any("json" in p for p in produces) and schema.get("type") != "string":
            problems.append(f"expected a JSON body, got content-type {ctype!r}")
        elif schema.get("type") == "string" and "json" in ctype:
            problems.append("text endpoint answered with a JSON content-type")
    else:
        if "json" not in ctype:
            problems.append(f"JSON body with content-type {ctype!r}")
        problems += _schema_errors(spec, schema, body, "response")
    if problems:
        raise ContractViolation("; ".join(problems), version=version, method=method, path=f"{path} -> {status}")
    return op.template
