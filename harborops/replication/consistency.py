"""The consistency check of an HA pair: per project and repository, artifacts (digest and tags) present
on one member and missing on the other.

Memory is bounded by one repository, not one project: the repositories of a project are listed on both
members, then each repository's artifacts are read from both (Harbor pages them), compared, and what is
missing is written as MissingArtifact rows before the next repository is read. The pair keeps the
counts (in total and per project and member) and, for the API's summary, the first lines per member;
the report page pages through the rows and streams them as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime

from django.db import transaction
from django.utils.timezone import now

from harborops.harbor import errors as harbor_errors
from harborops.harbor.client import HarborClient
from harborops.replication.models import HAPair, MissingArtifact, PairSide
from harborops.replication.services import client_for

MISSING_KEPT = 200  # lines kept on the pair per member (the count and the report are complete)
BATCH = 500

Say = Callable[[str], None]


def _repositories(c: HarborClient, project: str) -> set[str]:
    try:
        return {r.name for r in c.list_repositories(project)}
    except harbor_errors.NotFound:
        return set()


def _artifacts(c: HarborClient, project: str, repo: str) -> dict[str, set[str]]:
    short = repo.split("/", 1)[1] if "/" in repo else repo
    try:
        return {a.digest: {t.name for t in (a.tags or [])} for a in c.list_artifacts(project, short, with_tag=True)}
    except harbor_errors.NotFound:
        return {}


def _diff(pair: HAPair, project: str, repo: str, have: dict[str, set[str]], other: dict[str, set[str]],
          missing_on: PairSide, present_on: PairSide) -> Iterator[MissingArtifact]:
    for digest, tags in sorted(other.items()):
        common = {"pair": pair, "missing_on": missing_on.instance, "present_on": present_on.instance,
                  "project": project, "repository": repo, "digest": digest}
        if digest not in have:
            yield MissingArtifact(**common, kind=MissingArtifact.Kind.ARTIFACT, tags=sorted(tags))
        elif tags - have[digest]:
            yield MissingArtifact(**common, kind=MissingArtifact.Kind.TAGS, tags=sorted(tags - have[digest]))


def check(pair: HAPair, *, say: Say) -> HAPair:
    """Compare the pair's projects on both members now and store the report (replacing the last one)."""
    sides = list(pair.sides.select_related("instance"))
    if len(sides) != 2:
        raise ValueError("the pair does not have two members")
    a, b = sides
    ca, cb = client_for(a.instance), client_for(b.instance)
    started: datetime = now()
    MissingArtifact.objects.filter(pair=pair).delete()
    counts: dict[str, dict[str, int]] = {}
    kept: dict[str, list[str]] = {a.instance.name: [], b.instance.name: []}
    total = 0
    for project in pair.projects:
        per = counts.setdefault(project, {a.instance.name: 0, b.instance.name: 0})
        repos = sorted(_repositories(ca, project) | _repositories(cb, project))
        for repo in repos:
            on_a, on_b = _artifacts(ca, project, repo), _artifacts(cb, project, repo)
            rows = [*_diff(pair, project, repo, on_a, on_b, a, b), *_diff(pair, project, repo, on_b, on_a, b, a)]
            with transaction.atomic():
                MissingArtifact.objects.bulk_create(rows, batch_size=BATCH)
            for row in rows:
                name = row.missing_on.name
                per[name] += 1
                if len(kept[name]) < MISSING_KEPT:
                    kept[name].append(row.line())
            total += len(rows)
        say(f"{project}: {len(repos)} repositories compared; missing on {a.instance.name}: "
            f"{per[a.instance.name]}, on {b.instance.name}: {per[b.instance.name]}")
    pair.checked_at, pair.consistent, pair.missing, pair.missing_count = started, total == 0, kept, total
    pair.project_counts = counts
    pair.save(update_fields=["checked_at", "consistent", "missing", "missing_count", "project_counts", "updated_at"])
    for side in (a, b):
        n = sum(c[side.instance.name] for c in counts.values())
        other = b if side is a else a
        say(f"{side.instance.name}: {n} artifact(s) of {other.instance.name} missing" if n
            else f"{side.instance.name}: nothing missing")
    return pair


CSV_HEADER = ("missing_on", "present_on", "project", "repository", "digest", "kind", "tags")


def _cell(value: str) -> str:
    # spreadsheet formula injection: a name starting with = + - @ stays text
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_chunks(pair: HAPair) -> Iterator[str]:
    """The report as CSV text, read from the database in chunks (never the whole report in memory)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    qs = MissingArtifact.objects.filter(pair__group_id=pair.group_id).select_related("missing_on", "present_on")
    for n, m in enumerate(qs.order_by("pk").iterator(chunk_size=BATCH), 1):
        writer.writerow([_cell(v) for v in (m.missing_on.name, m.present_on.name, m.project, m.repository,
                                            m.digest, m.kind, " ".join(m.tags))])
        if n % BATCH == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
