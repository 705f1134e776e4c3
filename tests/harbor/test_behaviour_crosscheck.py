"""The client's capability table against the simulator's behaviour table, and both against Harbor.

``harborops/harbor/capabilities.py`` (``FEATURES``, the product) and ``harborops/harbor_sim/behaviour.py``
(``BEHAVIOUR``, the simulator's witness) are written independently; each entry cites the Harbor source
that shows its range. These tests hold them together:

* **Cross-check.** Every client feature has a simulator row of the same name, and for every shared
  name the ranges are equal; a disagreement fails naming both ranges and both citations, so the
  reader knows which two readings of Harbor to compare.
* **Citation shape.** Every cite starts with ``path@vX.Y.Z symbol``
  (``src/controller/health/checker.go@v2.9.0 RegisterHealthCheckers (no notary)``); more sources may
  follow, joined by ``"; "``, and every ``@`` in it names a full tag (``@v2.12.4``, never ``@2.12`` or
  ``@v2.12``), so ``"…; @v2.12.4 ListRobot …"`` or ``"absent @v2.7.0"`` count as cited tags too. Behaviour
  not yet in any release (a version after 2.15) cites a commit on Harbor's main branch instead,
  ``path@main(<sha>…) symbol``, and must say so in ``uncertain``.
* **Bounding tags.** A range is only as good as the tags read. The bounds of a range are the tag of
  ``since`` (``(2, 9)`` → ``v2.9.0``; a patch is kept: ``(2, 15, 1)`` → ``v2.15.1``), the tag of
  ``until`` (the last version with it) and the tag just after ``until`` (first without: next minor's
  ``.0``, or next patch when ``until`` names a patch). A ``witness="source"`` row — behaviour no
  spec shows (GC ``workers``/``delete_tag``, ``redis_url_reg`` redaction, health components, the
  2.13 audit freeze) — must cite the tag of *every* finite end: ``since``, and the first version
  without it after ``until``. A ``witness="spec"`` row and a client feature must cite at least one
  bound. A bound after the newest release (2.15) is met by a ``@main(<sha>`` citation plus ``uncertain``.
* **Spec witness.** A ``witness="spec"`` row must agree, for every minor 2.3 … 2.15, with the spec
  extracts through the same mapping ``test_spec_extract.test_capabilities_agree_with_the_spec`` uses
  (``tests/harbor/spec_witness.py``); a spec row whose path the extracts do not carry is listed in
  ``NOT_IN_EXTRACTS`` and proven absent from every extract.
* **Independence.** Nothing under ``harborops/harbor_sim/`` imports ``harborops.harbor.capabilities``
  (checked on the source with ``ast``).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pytest

from harborops.harbor.capabilities import FEATURES, Feature
from harborops.harbor_sim import behaviour
from harborops.harbor_sim.behaviour import BEHAVIOUR, SPEC_MAX, Row, SimVersion
from tests.harbor.spec_witness import NOT_IN_EXTRACTS, SPEC_WITNESS, extract

REPO = Path(__file__).resolve().parents[2]
SIM_PACKAGE = REPO / "harborops" / "harbor_sim"
FORBIDDEN = "harborops.harbor.capabilities"
MINORS = range(3, 16)

CITE_START = re.compile(r"^(?P<path>[\w.-]+(?:/[\w.{}-]+)*\.\w+)@(?P<tag>v\d+\.\d+\.\d+) (?P<symbol>\S)")
CITE_MAIN_START = re.compile(r"^[\w.-]+(?:/[\w.{}-]+)*\.\w+@main\([0-9a-f]{7,40}\b.*\) \S")
CITED_TAG = re.compile(r"@(v\d+\.\d+\.\d+)(?![\w.])")
CITED_MAIN = re.compile(r"@main\([0-9a-f]{7,40}\b")
SOURCE_RULE = "a witness='source' row cites the tag of since and of the first version after until"


class Ranged(Protocol):
    @property
    def since(self) -> tuple[int, ...] | None: ...
    @property
    def until(self) -> tuple[int, ...] | None: ...
    @property
    def cite(self) -> str: ...


def _tag(t: tuple[int, ...]) -> str:
    return "v" + ".".join(map(str, [*t, 0, 0][:3]))


def _after(until: tuple[int, ...]) -> tuple[int, ...]:
    """The first version without a behaviour whose last version is ``until``."""
    if len(until) >= 3:
        return (until[0], until[1], until[2] + 1)
    return (until[0], until[1] + 1, 0)


def _range(entry: Ranged) -> str:
    since = f"v{'.'.join(map(str, entry.since))}" if entry.since else "…"
    until = f"v{'.'.join(map(str, entry.until))}" if entry.until else "…"
    return f"{since} – {until}"


def _bounds(entry: Ranged) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Comparable bounds: a missing patch in ``since`` is .0, in ``until`` every patch of the minor."""
    lo = [*(entry.since or (0, 0)), 0, 0][:3]
    hi = [*(entry.until or (10**6, 0)), 10**6, 10**6][:3]
    return (lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2])


def cite_problems(name: str, cite: str) -> list[str]:
    """What is wrong with one citation's shape (see the module docstring); empty when nothing."""
    if not cite.strip():
        return [f"{name}: empty cite"]
    if not (CITE_START.match(cite) or CITE_MAIN_START.match(cite)):
        return [f"{name}: cite {cite!r} does not start with 'path@vX.Y.Z symbol'"]
    bad = cite.count("@") - len(CITED_TAG.findall(cite)) - len(CITED_MAIN.findall(cite))
    return [f"{name}: cite {cite!r} has {bad} '@' without a full vX.Y.Z tag"] if bad else []


def cited_tags(cite: str) -> set[str]:
    return set(CITED_TAG.findall(cite))


def bound_problems(name: str, entry: Ranged, *, every_bound: bool) -> list[str]:
    """The bounding tags ``entry`` fails to cite (see the module docstring for the rule)."""
    tags = cited_tags(entry.cite)
    if CITED_MAIN.search(entry.cite) and getattr(entry, "uncertain", ""):
        tags |= {_tag(b) for b in (entry.since, entry.until) if b and b[:2] > SPEC_MAX}  # unreleased
    required = ([_tag(entry.since)] if entry.since else []) + ([_tag(_after(entry.until))] if entry.until else [])
    if every_bound:
        missing = [t for t in required if t not in tags]
        return [
            f"{name} ({_range(entry)}) cites {sorted(tags)}, not the bounding tag {t} ({SOURCE_RULE})" for t in missing
        ]
    allowed = set(required) | ({_tag(entry.until)} if entry.until else set())
    if allowed and not allowed & tags:
        return [f"{name} ({_range(entry)}) cites {sorted(tags)}, none of its bounding tags {sorted(allowed)}"]
    return []


def disagreements(features: Mapping[str, Feature], rows: Mapping[str, Row]) -> list[str]:
    """Every client feature whose range differs from the simulator's row, naming both sources."""
    found = []
    for name in sorted(features.keys() & rows.keys()):
        feat, row = features[name], rows[name]
        if _bounds(feat) != _bounds(row):
            found.append(
                f"{name}: client says {_range(feat)} citing {feat.cite!r}; "
                f"simulator says {_range(row)} citing {row.cite!r}"
            )
    return found


def forbidden_imports(source: str, module: str) -> list[str]:
    """Import statements in ``source`` (of the dotted ``module``) that reach the client's table."""
    package = module.rsplit(".", 1)[0]
    hits = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        if any(n == FORBIDDEN or n.startswith(FORBIDDEN + ".") for n in names):
            hits.append(f"{module}:{node.lineno} imports {FORBIDDEN}")
    return hits


def _sim_modules() -> Iterator[tuple[str, str]]:
    for path in sorted(SIM_PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if parts[-1] == "__init__":
            module += ".__init__"  # so relative imports resolve against the package itself
        yield module, path.read_text()


# -- the cross-check ---------------------------------------------------------------------------


def test_every_client_feature_has_a_simulator_row() -> None:
    missing = sorted(FEATURES.keys() - BEHAVIOUR.keys())
    assert not missing, f"client features the simulator does not witness (add a cited Row): {missing}"


def test_client_and_simulator_ranges_agree() -> None:
    found = disagreements(FEATURES, BEHAVIOUR)
    if found:
        pytest.fail("client and simulator disagree on Harbor's versions:\n" + "\n".join(found))


def test_a_planted_disagreement_names_both_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    row = BEHAVIOUR["gc_workers"]
    monkeypatch.setitem(behaviour.BEHAVIOUR, "gc_workers", dataclasses.replace(row, since=(2, 10)))
    found = disagreements(FEATURES, behaviour.BEHAVIOUR)
    assert len(found) == 1
    assert found[0].startswith("gc_workers: client says v2.9 – …")
    assert "simulator says v2.10 – …" in found[0]
    assert FEATURES["gc_workers"].cite in found[0] and row.cite in found[0]


def test_a_planted_patch_level_or_until_disagreement_is_reported() -> None:
    # (2, 15) and (2, 15, 0) are the same start; (2, 15) and (2, 15, 1) are not; until (2, 12) is not (2, 12, 0).
    same = {"gc_delete_tag": dataclasses.replace(FEATURES["gc_delete_tag"], since=(2, 15, 0))}
    assert disagreements(same, BEHAVIOUR) == []
    planted = dataclasses.replace(BEHAVIOUR["gc_redis_url_redacted"], since=(2, 15))
    assert disagreements(FEATURES, {"gc_redis_url_redacted": planted})
    planted = dataclasses.replace(BEHAVIOUR["project_robots"], until=(2, 12, 0))
    assert "project_robots: client says … – v2.12 citing" in disagreements(FEATURES, {"project_robots": planted})[0]


# -- citations -----------------------------------------------------------------------------------


def test_every_row_and_feature_cites_harbor_source_in_shape() -> None:
    problems = [p for name, row in BEHAVIOUR.items() for p in cite_problems(f"simulator {name}", row.cite)]
    problems += [p for name, feat in FEATURES.items() for p in cite_problems(f"client {name}", feat.cite)]
    assert not problems, problems
    assert {row.witness for row in BEHAVIOUR.values()} <= {"spec", "source"}


@pytest.mark.parametrize(
    "cite",
    [
        "",
        "garbage_collection.go parseParams",
        "src/x.go@2.9.0 parseParams",
        "src/x.go@v2.9.0",
        "src/x.go@v2.9 f",
        "src/x.go@v2.9.0 f; @2.8 g",
    ],
)
def test_the_cite_check_rejects_bad_shapes(cite: str) -> None:
    assert cite_problems("planted", cite)


def test_source_rows_cite_every_bounding_tag() -> None:
    problems = [
        p
        for name, row in BEHAVIOUR.items()
        if row.witness == "source"
        for p in bound_problems(name, row, every_bound=True)
    ]
    assert not problems, problems


def test_spec_rows_and_client_features_cite_a_bounding_tag() -> None:
    problems = [
        p
        for name, row in BEHAVIOUR.items()
        if row.witness == "spec"
        for p in bound_problems(name, row, every_bound=False)
    ]
    problems += [
        p for name, feat in FEATURES.items() for p in bound_problems(f"client {name}", feat, every_bound=False)
    ]
    assert not problems, problems


def test_the_bound_rule_catches_a_cite_of_the_wrong_tag() -> None:
    # GC workers arrived in 2.9: citing only the last version without them proves nothing about 2.9.
    wrong = Row((2, 9), None, "workers", "src/jobservice/job/impl/gc/garbage_collection.go@v2.8.6 parseParams")
    assert bound_problems("planted", wrong, every_bound=True)[0].startswith(
        "planted (v2.9 – …) cites ['v2.8.6'], not the bounding tag v2.9.0"
    )
    # Health notary ends with 2.8: a source row must show v2.9.0 (the first without), not only v2.8.0.
    until = Row(None, (2, 8), "notary", "src/controller/health/checker.go@v2.8.0 RegisterHealthCheckers")
    assert bound_problems("planted", until, every_bound=True)
    assert not bound_problems("planted", until, every_bound=False)  # v2.8.0 is a bound for a spec row
    patch = Row((2, 15, 1), None, "redaction", "src/server/v2.0/handler/model/gc.go@v2.15.0 CleanExtraAttrs")
    assert bound_problems("planted", patch, every_bound=True)
    # Unreleased behaviour: a commit on main stands for the missing tag only when the row says it is uncertain.
    unreleased = Row((2, 16), None, "x", "src/pkg/auditext/model/model.go@main(c50c7dd) EventTypes; absent @v2.15.2")
    assert not cite_problems("planted", unreleased.cite)
    assert bound_problems("planted", unreleased, every_bound=True)
    assert not bound_problems("planted", dataclasses.replace(unreleased, uncertain="unreleased"), every_bound=True)


# -- spec-witnessed rows against the spec extracts -------------------------------------------------


def spec_disagreements(name: str, row: Row) -> list[str]:
    """Where a ``witness="spec"`` row differs from the spec extracts (or cannot be derived from them)."""
    if name in NOT_IN_EXTRACTS:
        path = NOT_IN_EXTRACTS[name]
        carried = [m for m in MINORS if path in extract(m)["paths"]]
        if path not in row.cite or carried:
            return [f"{name}: {path} (cited: {path in row.cite}) is in the extracts of minors {carried}"]
        return []
    if name not in SPEC_WITNESS:
        return [
            f"{name} claims witness='spec' but tests/harbor/spec_witness.py cannot derive it: "
            "add it to SPEC_WITNESS (or NOT_IN_EXTRACTS), or make it witness='source'"
        ]
    return [
        f"{name} v2.{m}: {what} is {pred(extract(m))} in the extract; "
        f"simulator row {_range(row)} ({row.cite}) says {row.present(SimVersion(2, m, 0))}"
        for m in MINORS
        for what, pred in SPEC_WITNESS[name]
        if pred(extract(m)) is not row.present(SimVersion(2, m, 0))
    ]


@pytest.mark.parametrize("name", sorted(n for n, r in BEHAVIOUR.items() if r.witness == "spec"))
def test_spec_rows_agree_with_the_spec_extracts(name: str) -> None:
    wrong = spec_disagreements(name, BEHAVIOUR[name])
    assert not wrong, wrong


def test_a_planted_spec_row_disagreement_is_caught() -> None:
    planted = dataclasses.replace(BEHAVIOUR["schedules"], since=(2, 8))
    assert spec_disagreements("schedules", planted) == [
        f"schedules v2.7: path /schedules is True in the extract; simulator row v2.8 – … ({planted.cite}) says False"
    ]
    assert spec_disagreements("no_such_spec_row", planted)
    assert spec_disagreements("cve_export", dataclasses.replace(planted, cite="api/v2.0/swagger.yaml@v2.6.0 x"))


# -- independence ---------------------------------------------------------------------------------


def test_the_simulator_never_imports_the_client_table() -> None:
    modules = list(_sim_modules())
    assert len(modules) > 10  # the scan really walks the package
    hits = [hit for module, source in modules for hit in forbidden_imports(source, module)]
    assert not hits, hits


@pytest.mark.parametrize(
    "source",
    [
        "from harborops.harbor.capabilities import Capabilities",
        "import harborops.harbor.capabilities as caps",
        "from harborops.harbor import capabilities",
        "from ...harbor import capabilities",
        "from ...harbor.capabilities import FEATURES",
        "import importlib\nimportlib.import_module('harborops.harbor.capabilities')",
    ],
)
def test_the_import_scan_catches_each_spelling(source: str) -> None:
    assert forbidden_imports(source, "harborops.harbor_sim.routes.gc")
    assert not forbidden_imports("from harborops.harbor_sim.behaviour import BEHAVIOUR", "harborops.harbor_sim.x")
