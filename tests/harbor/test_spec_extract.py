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
from tests.harbor.spec_witness import SPEC_WITNESS

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO / "harborops" / "harbor" / "spec"


def _extract(minor: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_DIR / f"v2.{minor}.json").read_text())
    return data


def _op(minor: int, method: str, path: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = _extract(minor)["paths"].get(path, {}).get(method)
    return found


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
    ex = _extract(minor)
    assert "/audit-logs" in ex["paths"]  # still there (frozen) after 2.13
    wrong = [
        f"{name}: {what} is {pred(ex)} in the v2.{minor} extract, capability says {caps.supports(name)}"
        for name, witnesses in SPEC_WITNESS.items()
        for what, pred in witnesses
        if pred(ex) is not caps.supports(name)
    ]
    assert not wrong, wrong


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
