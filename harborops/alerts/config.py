"""The alerts settings that depend on an instance's labels (hysteresis thresholds)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings


def parse_label_overrides(text: str) -> list[tuple[str, str, int]]:
    """``"env=lab:5, tier=critical:1"`` → [("env", "lab", 5), ("tier", "critical", 1)].

    Raises ValueError with the bad item, so a system check and the tests can say what is wrong."""
    out: list[tuple[str, str, int]] = []
    for item in (p.strip() for p in text.replace("\n", ",").split(",")):
        if not item:
            continue
        match, sep, number = item.rpartition(":")
        key, eq, value = match.partition("=")
        if not sep or not eq or not key.strip() or not number.strip().isdigit():
            raise ValueError(f"expected label=value:N, got {item!r}")
        out.append((key.strip(), value.strip(), int(number)))
    return out


@lru_cache(maxsize=16)
def _overrides(text: str) -> tuple[tuple[str, str, int], ...]:
    return tuple(parse_label_overrides(text))


def _for_labels(default: int, text: str, labels: dict[str, object]) -> int:
    for key, value, n in _overrides(text):
        if str(labels.get(key)) == value:
            return n
    return default


@dataclass(frozen=True)
class Hysteresis:
    down_after_failures: int
    down_after_minutes: int  # 0 = only the failure count counts
    up_after_successes: int


def hysteresis_for(labels: dict[str, object]) -> Hysteresis:
    return Hysteresis(
        down_after_failures=max(1, _for_labels(settings.ALERT_DOWN_AFTER_FAILURES,
                                               settings.ALERT_DOWN_AFTER_FAILURES_BY_LABEL, labels)),
        down_after_minutes=max(0, _for_labels(settings.ALERT_DOWN_AFTER_MINUTES,
                                              settings.ALERT_DOWN_AFTER_MINUTES_BY_LABEL, labels)),
        up_after_successes=max(1, _for_labels(settings.ALERT_UP_AFTER_SUCCESSES,
                                              settings.ALERT_UP_AFTER_SUCCESSES_BY_LABEL, labels)),
    )
