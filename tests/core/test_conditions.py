"""The alert-condition registry: sources register keys, evaluation isolates a failing source."""

from __future__ import annotations

import datetime as dt

import pytest

from harborops.core import conditions as reg
from harborops.core.conditions import Occurrence

pytestmark = pytest.mark.embedded

AT = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(reg, "_SOURCES", {})
    return reg


def test_sources_evaluate_and_a_broken_one_does_not_stop_the_rest(registry):
    @registry.conditions("zz-ok", {"zz.a": "A happened"})
    def ok(at):
        yield Occurrence("zz.a", "instance:1", "critical", f"at {at:%H:%M}", instance_id=1)
        yield Occurrence("zz.a", "instance:1", "warning", "duplicate of the same subject: dropped")

    @registry.conditions("aa-broken", {"aa.b": "B"})
    def broken(at):
        raise RuntimeError("database went away")

    result = registry.evaluate_all(AT)
    assert [(o.condition, o.subject, o.summary) for o in result.occurrences] == [("zz.a", "instance:1", "at 12:00")]
    assert result.errors == {"aa-broken": "RuntimeError: database went away"}
    assert registry.title("zz.a") == "A happened"
    assert registry.title("unknown.key") == "unknown.key"
    assert [s.name for s in registry.sources()] == ["aa-broken", "zz-ok"]


def test_undeclared_keys_and_severities_are_errors_not_alerts(registry):
    @registry.conditions("src", {"src.a": "A"})
    def bad(at):
        yield Occurrence("src.other", "x", "critical", "not declared")
        yield Occurrence("src.a", "y", "fatal", "bad severity")  # type: ignore[arg-type]

    result = registry.evaluate_all(AT)
    assert result.occurrences == []
    assert "src" in result.errors


def test_a_key_belongs_to_one_source(registry):
    registry.conditions("one", {"k.x": "X"})(lambda at: [])
    with pytest.raises(ValueError, match="already registered by source 'one'"):
        registry.conditions("two", {"k.x": "X again"})(lambda at: [])
    assert registry.evaluate_all(AT, only=["two"]).occurrences == []
