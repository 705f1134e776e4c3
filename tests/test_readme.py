"""The README's configuration reference lists every environment variable the code reads."""

from __future__ import annotations

import re

import pytest

from tests.support.processes import REPO

pytestmark = pytest.mark.embedded

READERS = re.compile(r"""(?:env(?:str|bool|int|list|secret)\(|environ\.get\(|getenv\()\s*["']([A-Z][A-Z0-9_]+)["']""")
SHELL = re.compile(r"\$\{?(HARBOROPS_[A-Z0-9_]+)")
SCHEDULE = re.compile(r"""ScheduleEntry\(\s*"[^"]+",\s*"([A-Z0-9_]+)\"""")
IGNORED = {"DJANGO_SETTINGS_MODULE", "CI"}


def variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in [*REPO.glob("harborops/**/*.py"), *REPO.glob("scripts/*.sh")]:
        if "harbor_sim" in path.parts:
            continue
        text = path.read_text()
        found |= set(READERS.findall(text)) | set(SHELL.findall(text)) | set(SCHEDULE.findall(text))
    return found - IGNORED


def test_every_variable_is_documented():
    readme = (REPO / "README.md").read_text()
    reference = readme.split("## Configuration reference", 1)[1]
    missing = sorted(v for v in variables_read_by_the_code() if f"`{v}`" not in reference)
    assert not missing, f"add these to the README's configuration reference: {missing}"
    assert len(variables_read_by_the_code()) > 30
