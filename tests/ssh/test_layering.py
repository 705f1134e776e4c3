"""The SSH layer knows no feature: nothing under harborops/ssh imports an app that builds on it.

Read from the source (every module, migrations included, imports inside functions too), so a lazy
``from harborops.installs.models import …`` in a function body fails here as well as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import harborops.ssh

SSH_DIR = Path(harborops.ssh.__file__).parent
FEATURES = ("installs", "certificates", "maintenance", "replication", "fleet", "access", "events", "alerts")
ALLOWED = {"harborops.core", "harborops.audit", "harborops.ssh"}  # the layers below SSH, and SSH itself


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
                "import_module", "__import__"} and node.args and isinstance(node.args[0], ast.Constant):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def test_nothing_in_the_ssh_layer_imports_a_feature():
    modules = sorted(SSH_DIR.rglob("*.py"))
    assert len(modules) > 8  # services, models, views, api … really read
    offending = []
    for path in modules:
        for line, name in imported_modules(path):
            if name.startswith("harborops.") and not any(name == a or name.startswith(a + ".") for a in ALLOWED):
                offending.append(f"{path.relative_to(SSH_DIR.parent.parent)}:{line} imports {name}")
    assert not offending, "the SSH layer must not know features:\n" + "\n".join(offending)


@pytest.mark.parametrize("source", [
    "from harborops.installs.models import InstallTarget",
    "def f():\n    from harborops.maintenance import models\n",
    "import harborops.certificates.models",
    "import importlib\nimportlib.import_module('harborops.replication.models')",
])
def test_the_check_sees_each_kind_of_import(source: str, tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_text(source)
    names = [name for _, name in imported_modules(path)]
    assert any(name.split(".")[1:2] and name.split(".")[1] in FEATURES for name in names), names
