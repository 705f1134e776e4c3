"""The alert-condition registry: plain functions over collected data that say what needs attention.

Each app registers its conditions from its ``AppConfig.ready()`` by importing its own
``conditions`` module, whose functions carry the :func:`conditions` decorator::

    @conditions("gc", {"gc.run_failed": "last GC failed", "gc.success_too_old": "last successful GC too old"})
    def gc_conditions(at: datetime) -> Iterator[Occurrence]:
        yield Occurrence("gc.run_failed", f"instance:{inst.pk}", "critical", "GC 12 ended Error", ...)

A source function reads only what harborops already stores (no network): the alerts app evaluates
every source on its schedule, stores the lifecycle (firing, acknowledged, resolved), routes and
notifies. Pages of the apps may call the same functions to show the conditions beside their data.
One source that raises never stops the others (:func:`evaluate_all` reports it as an error).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")


@dataclass(frozen=True)
class Occurrence:
    """One thing that needs attention now.

    ``condition`` is a key its source declared; ``subject`` a stable key of what it is about
    (``instance:3``, ``endpoint:7``, ``rpolicy:12``) — one alert per (condition, subject).
    ``instance_id`` names the fleet instance it concerns, if any (label routes and silences match on
    that instance's labels). ``link`` is a dashboard path. ``labels`` are extra, low-cardinality
    matchers (e.g. ``{"band": "7d"}``)."""

    condition: str
    subject: str
    severity: Severity
    summary: str
    details: str = ""
    link: str = ""
    instance_id: int | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.condition, self.subject


Source = Callable[[dt.datetime], Iterable[Occurrence]]


@dataclass(frozen=True)
class ConditionSource:
    name: str
    titles: dict[str, str]  # condition key -> human title
    evaluate: Source


_SOURCES: dict[str, ConditionSource] = {}


def conditions(name: str, titles: dict[str, str]) -> Callable[[Source], Source]:
    """Register ``fn`` as the source ``name`` of the condition keys in ``titles``."""

    def register(fn: Source) -> Source:
        for key in titles:
            owner = next((s.name for s in _SOURCES.values() if key in s.titles and s.name != name), None)
            if owner is not None:
                raise ValueError(f"condition {key!r} is already registered by source {owner!r}")
        _SOURCES[name] = ConditionSource(name, dict(titles), fn)
        return fn

    return register


def sources() -> list[ConditionSource]:
    return sorted(_SOURCES.values(), key=lambda s: s.name)


def titles() -> dict[str, str]:
    return {key: title for s in sources() for key, title in s.titles.items()}


def title(condition: str) -> str:
    return titles().get(condition, condition)


@dataclass
class Evaluation:
    occurrences: list[Occurrence]
    errors: dict[str, str]  # source name -> what went wrong


def evaluate_all(at: dt.datetime, *, only: Iterable[str] | None = None) -> Evaluation:
    """Every registered source at ``at``; a source that raises, or yields an undeclared key, is
    reported in ``errors`` and the others still run. Duplicate (condition, subject) pairs keep the
    first."""
    wanted = set(only) if only is not None else None
    out: dict[tuple[str, str], Occurrence] = {}
    errors: dict[str, str] = {}
    for source in sources():
        if wanted is not None and source.name not in wanted:
            continue
        try:
            found = list(source.evaluate(at))
        except Exception as exc:  # one broken source never silences the rest
            log.exception("alert condition source %s failed", source.name)
            errors[source.name] = f"{type(exc).__name__}: {exc}"
            continue
        for occ in found:
            if occ.condition not in source.titles:
                errors[source.name] = f"yielded undeclared condition {occ.condition!r}"
                continue
            if occ.severity not in SEVERITIES:
                errors[source.name] = f"{occ.condition}: unknown severity {occ.severity!r}"
                continue
            out.setdefault(occ.key, occ)
    return Evaluation(list(out.values()), errors)
