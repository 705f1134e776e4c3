"""The committed spec extract: unedited since it was generated, prose-free, and what the client needs.

The repository stands alone, so nothing here reads Harbor's swagger files: `scripts/extract_harbor_spec.py`
records the SHA-256 of each Harbor spec it read and of each extract it wrote in `spec/digests.json`, and
`scripts/extract_harbor_spec.py --check` (run where Harbor's specs are at hand) compares with them.

The capability checks here read only the extract, so they fail independently of
capabilities.py when either drifts from Harbor's own spec.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from harborops.harbor.capabilities import SUPPORTED_MINORS, Capabilities

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO / "harborops" / "harbor" / "spec"


def _extract(minor: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_DIR / f"v2.{minor}.json").read_text())
    return data


def _op(minor: int, method: str, path: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _extract(minor)["paths"].get(path, {}).get(method)
    return found


def _param_names(op: dict[str, Any] | None) -> set[str]:
    return {p["name"] for p in (op or {}).get("parameters", [])}


def test_extracts_are_the_generated_ones() -> None:
    digests = json.loads((SPEC_DIR / "digests.json").read_text())
    assert sorted(digests) == sorted(p.name for p in SPEC_DIR.glob("v*.json"))
    for name, row in digests.items():
        assert row["source"] == f"{name.removesuffix('.json')}.0.yaml"
        assert len(row["source_sha256"]) == 64
        edited = hashlib.sha256((SPEC_DIR / name).read_bytes()).hexdigest() != row["extract_sha256"]
        assert not edited, f"{name} differs from what scripts/extract_harbor_spec.py wrote: regenerate it"


def test_one_extract_per_supported_minor_and_no_prose() -> None:
    for major, minor in SUPPORTED_MINORS:
        text = (SPEC_DIR / f"v{major}.{minor}.json").read_text()
        data = json.loads(text)
        assert data["source"] == f"v{major}.{minor}.0.yaml"
        for op in (o for ops in data["paths"].values() for o in ops.values()):
            assert not {"description", "summary", "tags"} & op.keys()
            assert all("description" not in p for p in op["parameters"])
        assert text == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("minor", range(3, 16))
def test_page_size_maximum_is_100_everywhere(minor: int) -> None:
    for path, ops in _extract(minor)["paths"].items():
        for method, op in ops.items():
            for p in op["parameters"]:
                if p["name"] == "page_size":
                    assert p.get("maximum") == 100, (minor, method, path)


@pytest.mark.parametrize("minor", range(3, 16))
def test_capabilities_agree_with_the_spec(minor: int) -> None:
    caps = Capabilities.for_version(f"v2.{minor}.0")
    paths = _extract(minor)["paths"]
    assert ("/auditlog-exts" in paths) is caps.audit_log_ext
    assert ("/auditlog-exts/events" in paths) is caps.audit_log_ext
    assert "/audit-logs" in paths  # still there (frozen) after 2.13
    assert ("/system/purgeaudit/schedule" in paths) is caps.purge_audit
    assert ("/jobservice/queues" in paths) is caps.jobservice
    assert ("/usergroups/search" in paths) is caps.usergroup_search
    assert ("/projects/{project_name_or_id}/robots" in paths) is caps.project_robots
    assert ("/permissions" in paths) is caps.robot_permissions
    assert ("/projects/{project_name_or_id}/artifacts" in paths) is caps.project_artifacts
    assert (_op(minor, "put", "/system/gc/{gc_id}") is not None) is caps.gc_stop
    assert ("page_size" in _param_names(_op(minor, "get", "/usergroups"))) is caps.usergroups_paginated
    assert ("group_name" in _param_names(_op(minor, "get", "/usergroups"))) is caps.usergroups_group_name_filter
    defs = _extract(minor)["definitions"]
    config = defs["Configurations"]["properties"]
    assert ("ldap_group_attach_parallel" in config) is caps.ldap_group_attach_parallel
    assert ("audit_log_forward_endpoint" in config) is caps.audit_log_forward
    assert ("disabled_audit_log_event_types" in config) is caps.disabled_audit_log_event_types
    assert ("single_active_replication" in defs["ReplicationPolicy"]["properties"]) is caps.replication_single_active
    assert ("copy_by_chunk" in defs["ReplicationPolicy"]["properties"]) is caps.replication_copy_by_chunk
    assert ("speed" in defs["ReplicationPolicy"]["properties"]) is caps.replication_speed
    assert ("ca_certificate" in defs["Registry"]["properties"]) is caps.registry_ca_certificate
    assert ("current_time" in defs["GeneralInfo"]["properties"]) is caps.systeminfo_current_time


@pytest.mark.parametrize("minor", range(6, 16))
def test_purge_parameter_name_from_the_spec_sample(minor: int) -> None:
    # The only place the spec names the purge parameter is the body's sample JSON.
    op = _op(minor, "post", "/system/purgeaudit/schedule")
    body = next(p for p in (op or {})["parameters"] if p["in"] == "body")
    keys = set(body["x-sample-body"]["parameters"])
    expected = Capabilities.for_version(f"v2.{minor}.0").purge_event_key
    assert expected in keys
    assert keys - {expected} == {"audit_retention_hour", "dry_run"}


def test_gc_parameters_are_free_form_in_the_spec() -> None:
    # workers (2.9) and delete_tag (2.15) are not in any spec: Schedule.parameters is a free map,
    # so those ranges are pinned by test_capabilities.py and the simulator tests, not here.
    for minor in range(3, 16):
        params = _extract(minor)["definitions"]["Schedule"]["properties"]["parameters"]
        assert params == {"additionalProperties": {"type": "object"}, "type": "object"}
