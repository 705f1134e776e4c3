"""Version parsing and the capability table (each range cites Harbor's source: ``Feature.cite``)."""

from __future__ import annotations

import pytest

from harborops.harbor.capabilities import (
    ROLE_IDS,
    ROLE_NAMES,
    SUPPORTED_MAX,
    SUPPORTED_MIN,
    Capabilities,
    Version,
    parse_version,
    spec_minor,
)
from harborops.harbor.errors import NotSupported, UnsupportedVersion


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("v2.10.0-b8bd1f5a", (2, 10, 0)),
        ("2.13.0", (2, 13, 0)),
        ("v2.15.1", (2, 15, 1)),
        ("v2.14", (2, 14, 0)),
        ("v2.16.0-dev", (2, 16, 0)),
        (" v2.3.5-rc1-abc ", (2, 3, 5)),
    ],
)
def test_parse_version(raw: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(raw).triple == expected


@pytest.mark.parametrize("raw", ["", "dev", "harbor", "vX.Y"])
def test_parse_version_rejects_garbage(raw: str) -> None:
    with pytest.raises(ValueError, match="not a Harbor version"):
        parse_version(raw)


def test_versions_order_by_number_not_text() -> None:
    assert parse_version("v2.9.0") < parse_version("v2.10.0") < parse_version("v2.10.1")
    assert Version(2, 10, 0, raw="a") == Version(2, 10, 0, raw="b")


@pytest.mark.parametrize("raw", ["v1.10.17-abc", "v2.0.0", "v2.1.5", "v2.2.3-xyz"])
def test_old_generations_are_unsupported_with_ssh_hint(raw: str) -> None:
    with pytest.raises(UnsupportedVersion) as info:
        Capabilities.for_version(raw)
    assert "API generation not supported; SSH-only operations available" in str(info.value)
    assert not info.value.transient


def test_supported_bounds() -> None:
    assert (SUPPORTED_MIN, SUPPORTED_MAX) == ((2, 3), (2, 15))
    assert Capabilities.for_version("v2.3.0").spec_name == "v2.3"
    # A newer minor than we know is checked against the newest spec we have.
    assert spec_minor("v2.16.0-dev") == (2, 15)


@pytest.mark.parametrize(
    ("feature", "first", "last"),
    [
        ("audit_log_ext", (2, 13), (2, 15)),
        ("legacy_audit_logs_frozen", (2, 13), (2, 15)),
        ("gc_workers", (2, 9), (2, 15)),
        ("gc_workers_max_10", (2, 13), (2, 15)),
        ("gc_delete_tag", (2, 15), (2, 15)),
        ("gc_stop", (2, 6), (2, 15)),
        ("purge_audit", (2, 6), (2, 15)),
        ("purge_include_event_types", (2, 13), (2, 15)),
        ("jobservice", (2, 7), (2, 15)),
        ("usergroup_search", (2, 4), (2, 15)),
        ("ldap_group_attach_parallel", (2, 12), (2, 15)),
        ("project_robots", (2, 3), (2, 12)),
        ("health_chartmuseum", (2, 3), (2, 7)),
        ("health_notary", (2, 3), (2, 8)),
    ],
)
def test_capability_ranges(feature: str, first: tuple[int, int], last: tuple[int, int]) -> None:
    for minor in range(3, 16):
        caps = Capabilities.for_version(f"v2.{minor}.0")
        assert caps.supports(feature) is (first <= (2, minor) <= last), (feature, minor)


def test_purge_event_key_renamed_in_2_13() -> None:
    assert Capabilities.for_version("v2.5.0").purge_event_key is None
    assert Capabilities.for_version("v2.12.3").purge_event_key == "include_operations"
    assert Capabilities.for_version("v2.13.0").purge_event_key == "include_event_types"


def test_audit_sources_and_health_components() -> None:
    assert Capabilities.for_version("v2.12.0").audit_log_endpoints == ("/audit-logs",)
    assert Capabilities.for_version("v2.13.0").audit_log_endpoints == ("/auditlog-exts", "/audit-logs")
    assert "chartmuseum" in Capabilities.for_version("v2.7.0").health_components
    assert "chartmuseum" not in Capabilities.for_version("v2.8.0").health_components
    assert "notary" in Capabilities.for_version("v2.8.0").health_components
    assert "notary" not in Capabilities.for_version("v2.9.0").health_components


def test_gc_parameters_and_redaction_patch_level() -> None:
    assert Capabilities.for_version("v2.8.0").gc_parameters == {"delete_untagged", "dry_run"}
    assert "workers" in Capabilities.for_version("v2.9.0").gc_parameters
    assert "delete_tag" in Capabilities.for_version("v2.15.0").gc_parameters
    assert not Capabilities.for_version("v2.15.0").gc_redis_url_redacted
    assert Capabilities.for_version("v2.15.1").gc_redis_url_redacted


def test_require_raises_not_supported_with_range() -> None:
    with pytest.raises(NotSupported, match=r"2\.12\.0 \(since v2\.13\)"):
        Capabilities.for_version("v2.12.0").require("audit_log_ext")
    with pytest.raises(NotSupported, match=r"until v2\.12"):
        Capabilities.for_version("v2.13.0").require("project_robots")
    with pytest.raises(KeyError):
        Capabilities.for_version("v2.13.0").supports("no_such_feature")


def test_roles() -> None:
    assert ROLE_IDS == {"projectAdmin": 1, "developer": 2, "guest": 3, "maintainer": 4, "limitedGuest": 5}
    assert ROLE_NAMES[4] == "maintainer"
