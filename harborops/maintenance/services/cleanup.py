"""The clean-up report: what each instance holds that GC could reclaim, collected into tables.

1. For each enabled instance, read through the Harbor client: every project, its quota
   (``GET /quotas``), its repositories, and each repository's artifacts with their tags
   (``with_tag=true``: one listing gives sizes, tags and ``pull_time``).
2. Replace that instance's rows in one transaction (an instance that cannot be read keeps its last
   rows and shows the error).
3. Pages and the API read only the tables: untagged artifacts per project with their sizes,
   projects over a share of their quota, repositories nobody pulled for N days.

An artifact listing has the same base collection as Harbor's ``q=tags=nil`` for the untagged part:
tagged artifacts and untagged ones no index references (src/pkg/artifact/dao/dao.go setBaseQuery),
so a child of a multi-arch index is never reported as untagged garbage. A never-pulled artifact
answers Go's zero time as ``pull_time`` (year 1), read here as "never".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import ExpressionWrapper, F, FloatField, Q, QuerySet, Sum
from django.utils.timezone import now

from harborops.fleet.models import Instance
from harborops.harbor import errors as e
from harborops.harbor.client import HarborClient
from harborops.harbor.types import Artifact
from harborops.maintenance.models import CleanupScan, ProjectUsage, RepositoryUsage, UntaggedArtifact

Say = Callable[[str], None]


def _pulled(value: dt.datetime | None) -> dt.datetime | None:
    """Harbor sends 0001-01-01T00:00:00Z for "never pulled"."""
    return value if value is not None and value.year > 1970 else None


@dataclass
class Collected:
    projects: list[ProjectUsage] = field(default_factory=list)
    repositories: list[RepositoryUsage] = field(default_factory=list)
    untagged: list[UntaggedArtifact] = field(default_factory=list)
    artifacts: int = 0


def _collect(instance: Instance, client: HarborClient, at: dt.datetime) -> Collected:
    out = Collected()
    # Authenticated first: with bad credentials Harbor still lists public projects to the anonymous
    # user, and a report of only those would look complete.
    client.detect_version()
    try:
        quotas = {q.ref.id: q for q in client.list_quotas() if q.ref is not None}
    except (e.Forbidden, e.NotFound):
        quotas = {}  # a robot without quota read: the report shows no quota, the rest still works
    for project in client.list_projects():
        quota = quotas.get(project.project_id)
        usage = ProjectUsage(instance=instance, project_id=project.project_id, name=project.name, collected_at=at,
                             quota_hard=quota.hard.get("storage") if quota else None,
                             quota_used=quota.used.get("storage") if quota else None)
        for repo in client.list_repositories(project.name):
            arts: list[Artifact] = client.list_artifacts(project.name, repo.name, with_tag=True)
            pulls = [p for a in arts if (p := _pulled(a.pull_time)) is not None]
            pushes = [a.push_time for a in arts if a.push_time is not None]
            untagged = [a for a in arts if not a.tags]
            out.repositories.append(RepositoryUsage(
                instance=instance, project_name=project.name, name=repo.name, artifacts=len(arts),
                untagged=len(untagged), size_bytes=sum(a.size for a in arts), pull_count=repo.pull_count,
                last_pull=max(pulls) if pulls else None, last_push=max(pushes) if pushes else None,
                created=repo.creation_time, collected_at=at))
            out.untagged += [UntaggedArtifact(instance=instance, project_name=project.name, repository=repo.name,
                                              digest=a.digest, size=a.size, push_time=a.push_time,
                                              pull_time=_pulled(a.pull_time), collected_at=at) for a in untagged]
            usage.repositories += 1
            usage.artifacts += len(arts)
            usage.untagged_count += len(untagged)
            usage.untagged_bytes += sum(a.size for a in untagged)
            out.artifacts += len(arts)
        out.projects.append(usage)
    return out


def scan_instance(instance: Instance, *, at: dt.datetime | None = None) -> CleanupScan:
    """Collect one instance into the report tables; on a Harbor error keep the old rows."""
    at = at or now()
    scan, _ = CleanupScan.objects.get_or_create(instance=instance)
    try:
        with instance.client(timeout=float(settings.GC_HARBOR_TIMEOUT)) as client:
            got = _collect(instance, client, at)
    except e.HarborError as exc:
        scan.error = exc.message[:2000]
        scan.save(update_fields=["error"])
        return scan
    with transaction.atomic():
        for model in (ProjectUsage, RepositoryUsage, UntaggedArtifact):
            model.objects.filter(instance=instance).delete()
        ProjectUsage.objects.bulk_create(got.projects)
        RepositoryUsage.objects.bulk_create(got.repositories, batch_size=500)
        UntaggedArtifact.objects.bulk_create(got.untagged, batch_size=500)
        scan.scanned_at, scan.error = at, ""
        scan.projects, scan.repositories, scan.artifacts = len(got.projects), len(got.repositories), got.artifacts
        scan.save()
    return scan


def scan_fleet(*, say: Say = lambda _text: None) -> tuple[int, int]:
    """Every enabled instance in turn; one that fails never stops the others."""
    ok = failed = 0
    for instance in Instance.objects.filter(enabled=True).order_by("name"):
        scan = scan_instance(instance)
        if scan.error:
            failed += 1
            say(f"{instance.name}: not readable: {scan.error}")
        else:
            ok += 1
            say(f"{instance.name}: {scan.projects} project(s), {scan.repositories} repositories, "
                f"{scan.artifacts} artifact(s); "
                f"{UntaggedArtifact.objects.filter(instance=instance).count()} untagged")
    return ok, failed


def refresh_project_totals(instance: Instance, projects: set[str]) -> None:
    """After deletions: recount a project's untagged artifacts from the rows still stored."""
    for name in projects:
        rows = UntaggedArtifact.objects.filter(instance=instance, project_name=name)
        ProjectUsage.objects.filter(instance=instance, name=name).update(
            untagged_count=rows.count(), untagged_bytes=rows.aggregate(s=Sum("size"))["s"] or 0)


# --- the report's three lists (querysets: the views and the API page them) ----------------------
def untagged_projects(instance: Instance | None = None) -> QuerySet[ProjectUsage]:
    rows = ProjectUsage.objects.filter(untagged_count__gt=0, instance__enabled=True).select_related("instance")
    if instance is not None:
        rows = rows.filter(instance=instance)
    return rows.order_by("-untagged_bytes", "instance__name", "name")


def untagged_artifacts(instance: Instance | None = None, project: str = "") -> QuerySet[UntaggedArtifact]:
    rows = UntaggedArtifact.objects.filter(instance__enabled=True).select_related("instance")
    if instance is not None:
        rows = rows.filter(instance=instance)
    if project:
        rows = rows.filter(project_name=project)
    return rows.order_by("-size", "instance__name", "repository", "digest")


def over_quota(share: float, instance: Instance | None = None) -> QuerySet[ProjectUsage]:
    """Projects whose used storage is at least ``share`` (0.8 = 80 %) of a finite quota."""
    rows = (ProjectUsage.objects.filter(instance__enabled=True, quota_hard__gt=0, quota_used__isnull=False)
            .annotate(share=ExpressionWrapper(F("quota_used") * 1.0 / F("quota_hard"), output_field=FloatField()))
            .filter(share__gte=share).select_related("instance"))
    if instance is not None:
        rows = rows.filter(instance=instance)
    return rows.order_by("-share", "instance__name", "name")


def unpulled(days: int, instance: Instance | None = None, *, at: dt.datetime | None = None
             ) -> QuerySet[RepositoryUsage]:
    """Repositories not pulled for ``days`` days (never pulled and older than that counts too)."""
    cutoff = (at or now()) - dt.timedelta(days=days)
    rows = (RepositoryUsage.objects.filter(instance__enabled=True)
            .filter(Q(last_pull__lt=cutoff) | Q(last_pull__isnull=True, created__lt=cutoff)
                    | Q(last_pull__isnull=True, created__isnull=True)).select_related("instance"))
    if instance is not None:
        rows = rows.filter(instance=instance)
    return rows.order_by(F("last_pull").asc(nulls_first=True), "-size_bytes", "instance__name", "name")
