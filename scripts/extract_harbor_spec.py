#!/usr/bin/env python3
"""Extract the parts of Harbor's swagger specs that harborops uses.

Reads ``<shared>/harbor/swagger/vX.Y.0.yaml`` for every supported minor (2.3 … 2.15) and writes
``harborops/harbor/spec/vX.Y.json``: the used paths with all their methods, parameters inlined
(``#/parameters/...`` resolved), responses inlined (``#/responses/...`` resolved), and every
definition reachable from them (``$ref`` kept as ``#/definitions/Name``). Prose (description,
summary, example, tags, title) is dropped. One piece of prose is data: the sample JSON in a body
parameter's description ("The sample format is {...}") is kept, parsed, as ``x-sample-body``; it
is the only place the spec names e.g. purge-audit's ``include_operations`` / ``include_event_types``.

Output is deterministic (sorted keys, fixed indent). Usage::

    python scripts/extract_harbor_spec.py [--shared ../shared] [--check]

``--check`` exits 1 when a committed extract differs from a fresh one.

Beside the extracts it writes ``digests.json``: for each extract, the SHA-256 of the Harbor swagger it
came from and of the extract itself. The test suite reads only that file (a clone stands alone: tests
never read ``../shared``) to prove no extract was edited by hand; this script, run with ``--check``
where Harbor's specs are at hand, proves the extracts match Harbor's published specs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "harborops" / "harbor" / "spec"
MINORS = tuple(range(3, 16))

# Paths harborops calls (all methods of each path are kept). Paths absent from a version are skipped.
USED_PATHS = (
    "/ping",
    "/health",
    "/systeminfo",
    "/systeminfo/volumes",
    "/systeminfo/getcert",
    "/statistics",
    "/projects",
    "/projects/{project_name_or_id}",
    "/projects/{project_name_or_id}/summary",
    "/projects/{project_name_or_id}/_deletable",
    "/projects/{project_name_or_id}/members",
    "/projects/{project_name_or_id}/members/{mid}",
    "/projects/{project_name_or_id}/robots",
    "/projects/{project_name_or_id}/robots/{robot_id}",
    "/projects/{project_name_or_id}/artifacts",
    "/usergroups",
    "/usergroups/{group_id}",
    "/usergroups/search",
    "/ldap/ping",
    "/ldap/users/search",
    "/ldap/users/import",
    "/ldap/groups/search",
    "/configurations",
    "/users",
    "/users/search",
    "/users/current",
    "/robots",
    "/robots/{robot_id}",
    "/permissions",
    "/registries",
    "/registries/ping",
    "/registries/{id}",
    "/registries/{id}/info",
    "/replication/adapters",
    "/replication/policies",
    "/replication/policies/{id}",
    "/replication/executions",
    "/replication/executions/{id}",
    "/replication/executions/{id}/tasks",
    "/replication/executions/{id}/tasks/{task_id}/log",
    "/audit-logs",
    "/auditlog-exts",
    "/auditlog-exts/events",
    "/projects/{project_name}/logs",
    "/projects/{project_name}/auditlog-exts",
    "/system/purgeaudit",
    "/system/purgeaudit/{purge_id}",
    "/system/purgeaudit/{purge_id}/log",
    "/system/purgeaudit/schedule",
    "/system/gc",
    "/system/gc/{gc_id}",
    "/system/gc/{gc_id}/log",
    "/system/gc/schedule",
    "/jobservice/pools",
    "/jobservice/pools/{pool_id}/workers",
    "/jobservice/jobs/{job_id}",
    "/jobservice/jobs/{job_id}/log",
    "/jobservice/queues",
    "/jobservice/queues/{job_type}",
    "/schedules",
    "/schedules/{job_type}/paused",
    "/quotas",
    "/quotas/{id}",
    "/repositories",
    "/projects/{project_name}/repositories",
    "/projects/{project_name}/repositories/{repository_name}",
    "/projects/{project_name}/repositories/{repository_name}/artifacts",
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}",
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
PROSE = frozenset({"description", "summary", "example", "examples", "tags", "title", "externalDocs"})
_SAMPLE = re.compile(r"sample format is\s*[|｜]?\s*(\{.*?\})\s*[|｜]", re.S)


def _strip(node: Any) -> Any:
    """Drop prose keys recursively (but keep properties *named* like a prose key)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in PROSE:
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: _strip(schema) for name, schema in value.items()}
            else:
                out[key] = _strip(value)
        return out
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref.split("/", 2)[2])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _sample(description: str) -> Any:
    match = _SAMPLE.search(description or "")
    if not match:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        return None


def _resolve(item: dict[str, Any], table: dict[str, Any], prefix: str) -> dict[str, Any]:
    ref = item.get("$ref")
    if isinstance(ref, str) and ref.startswith(prefix):
        resolved: dict[str, Any] = table[ref[len(prefix) :]]
        return resolved
    return item


def extract(spec: dict[str, Any], source: str) -> dict[str, Any]:
    params, responses, definitions = (
        spec.get("parameters", {}),
        spec.get("responses", {}),
        spec["definitions"],
    )
    paths: dict[str, Any] = {}
    for path in USED_PATHS:
        item = spec["paths"].get(path)
        if item is None:
            continue
        shared = [_resolve(p, params, "#/parameters/") for p in item.get("parameters", [])]
        ops: dict[str, Any] = {}
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            plist = shared + [_resolve(p, params, "#/parameters/") for p in op.get("parameters", [])]
            out_params = []
            for p in plist:
                stripped = _strip(p)
                sample = _sample(p.get("description", "")) if p.get("in") == "body" else None
                if sample is not None:
                    stripped["x-sample-body"] = sample
                out_params.append(stripped)
            out_op: dict[str, Any] = {
                "operationId": op.get("operationId"),
                "parameters": sorted(out_params, key=lambda p: (p["in"], p["name"])),
                "responses": {
                    str(code): _strip(_resolve(r, responses, "#/responses/"))
                    for code, r in op.get("responses", {}).items()
                },
            }
            for key in ("consumes", "produces", "deprecated", "security"):
                if key in op:
                    out_op[key] = op[key]
            ops[method] = out_op
        paths[path] = ops
    # Transitive closure of definitions reachable from the kept operations.
    needed: set[str] = set()
    _refs(paths, needed)
    todo = list(needed)
    while todo:
        name = todo.pop()
        more: set[str] = set()
        _refs(definitions[name], more)
        for m in more - needed:
            needed.add(m)
            todo.append(m)
    return {
        "source": source,
        "basePath": spec.get("basePath"),
        "consumes": spec.get("consumes", []),
        "produces": spec.get("produces", []),
        "paths": paths,
        "definitions": {name: _strip(definitions[name]) for name in sorted(needed)},
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


DIGESTS = "digests.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_all(shared: Path) -> dict[str, str]:
    """Return {file name: content} for every supported minor, plus ``digests.json``."""
    result: dict[str, str] = {}
    digests: dict[str, dict[str, str]] = {}
    for minor in MINORS:
        source = f"v2.{minor}.0.yaml"
        raw = (shared / "harbor" / "swagger" / source).read_bytes()
        spec = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader
        name = f"v2.{minor}.json"
        result[name] = render(extract(spec, source))
        digests[name] = {
            "source": source,
            "source_sha256": sha256(raw),
            "extract_sha256": sha256(result[name].encode("utf-8")),
        }
    result[DIGESTS] = render(digests)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--check", action="store_true", help="fail if the committed extract is stale")
    args = parser.parse_args(argv)
    files = build_all(args.shared)
    stale = []
    for name, content in files.items():
        target = OUT_DIR / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != content:
            stale.append(name)
            if not args.check:
                OUT_DIR.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
    if args.check and stale:
        print("stale spec extract: " + ", ".join(stale) + " (run scripts/extract_harbor_spec.py)")
        return 1
    print(("checked " if args.check else "wrote ") + f"{len(files)} files in {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
