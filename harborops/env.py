"""Typed helpers that read settings from the environment (after healthchecks' hc/settings.py).

Every secret can also come from a file: ``NAME_FILE=/run/secrets/name`` (Docker secrets).
"""

from __future__ import annotations

import os
from pathlib import Path


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (trailing newline stripped)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().rstrip("\n")
    return os.environ.get(name, default)


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
