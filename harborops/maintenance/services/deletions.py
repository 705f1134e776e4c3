"""Delete artifacts, tags and repositories across instances: plan, dry run, confirm, delete.

1. A plan lists items (instance, kind, repository, digest or tag), picked from the clean-up report
   or written as references (``proj/repo@sha256:…``, ``proj/repo:tag``, ``proj/repo``) for chosen
   instances. Creating it starts the dry run.
2. The dry run (a job) asks each instance whether each item is there, and how big it is; it deletes
   nothing. An instance that cannot be read marks its items "could not check"; the others go on.
3. An operator confirms on a page that lists, per instance, what will go. Only items the dry run
   found are deleted.
4. The delete job deletes item by item; each deletion (or failure) is one action-log entry. A
   failing instance never stops the others. Deleting in Harbor only marks: GC frees the space.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.harbor import errors as e
from harborops.harbor.client import HarborClient
from harborops.harbor.types import Artifact
from harborops.maintenance.models import CleanupItem, CleanupPlan, RepositoryUsage, UntaggedArtifact
from harborops.maintenance.services.cleanup import refresh_project_totals

CHECK_KIND = "maintenance.cleanup_check"
DELETE_KIND = "maintenance.cleanup_delete"
MAX_ITEMS = 5000
Say = Callable[[str], None]
# Harbor's rules: repository path components (src/server/registry/route.go) and tags (distribution's reference)
_REPO_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ItemSpec:
    instance: Instance
    kind: str
    repository: str
    reference: str = ""


def check_spec(spec: ItemSpec) -> None:
    """A clear error for a reference Harbor would not accept."""
    if spec.kind not in CleanupItem.Kind.values:
        raise ValidationError(f"unknown kind {spec.kind!r} (artifact, tag or repository)")
    if not _REPO_RE.match(spec.repository):
        raise ValidationError(f"{spec.repository!r} is not a repository name (write project/repository)")
    if spec.kind == CleanupItem.Kind.ARTIFACT and not _DIGEST_RE.match(spec.reference):
        raise ValidationError(f"{spec.reference!r} is not a digest (sha256:<64 hex>)")
    if spec.kind == CleanupItem.Kind.TAG and not _TAG_RE.match(spec.reference):
        raise ValidationError(f"{spec.reference!r} is not a tag")


def parse_references(text: str, instances: Iterable[Instance]) -> list[ItemSpec]:
    """One reference a line, each for every instance: ``repo@digest`` an artifact, ``repo:tag`` a tag,
    a bare ``repo`` the whole repository."""
    chosen = list(instances)
    out: list[ItemSpec] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "@" in line:
            repo, ref = line.split("@", 1)
            kind = CleanupItem.Kind.ARTIFACT
        elif ":" in line:
            repo, ref = line.rsplit(":", 1)
            kind = CleanupItem.Kind.TAG
        else:
            repo, ref, kind = line, "", CleanupItem.Kind.REPOSITORY
        for inst in chosen:
            spec = ItemSpec(inst, kind, repo, ref)
            try:
                check_spec(spec)
            except ValidationError as exc:
                raise ValidationError(f"line {n}: {' '.join(exc.messages)}") from None
            out.append(spec)
    return out


def from_report(*, untagged: Sequence[int] = (), repositories: Sequence[int] = ()) -> list[ItemSpec]:
    """Items from rows of the clean-up report (ids of UntaggedArtifact / RepositoryUsage)."""
    out = [ItemSpec(a.instance, CleanupItem.Kind.ARTIFACT, a.repository, a.digest)
           for a in UntaggedArtifact.objects.filter(pk__in=list(untagged)).select_related("instance")]
    out += [ItemSpec(r.instance, CleanupItem.Kind.REPOSITORY, r.name)
            for r in RepositoryUsage.objects.filter(pk__in=list(repositories)).select_related("instance")]
    return out


def create_plan(specs: Sequence[ItemSpec], *, actor: Actor) -> CleanupPlan:
    """Store the plan and start its dry run (a job)."""
    unique = list(dict.fromkeys(specs))
    if not unique:
        raise ValidationError("nothing selected to delete")
    if len(unique) > MAX_ITEMS:
        raise ValidationError(f"{len(unique)} items: at most {MAX_ITEMS} in one clean-up")
    for spec in unique:
        check_spec(spec)
    with transaction.atomic():
        plan = CleanupPlan.objects.create(created_by=actor.user, actor_name=actor.name)
        CleanupItem.objects.bulk_create([
            CleanupItem(plan=plan, instance=s.instance, instance_name=s.instance.name, kind=s.kind,
                        repository=s.repository, reference=s.reference) for s in unique])
        plan.dry_run_job = start_job(CHECK_KIND, actor=actor, target=plan, params={"plan": plan.pk})
        plan.save(update_fields=["dry_run_job"])
        record(actor=actor, action="maintenance.cleanup.plan", obj=plan,
               after={"items": [f"{s.instance.name}: {s.kind} {_label(s)}" for s in unique][:200]})
    return plan


def _label(spec: ItemSpec | CleanupItem) -> str:
    if spec.kind == CleanupItem.Kind.ARTIFACT:
        return f"{spec.repository}@{spec.reference}"
    if spec.kind == CleanupItem.Kind.TAG:
        return f"{spec.repository}:{spec.reference}"
    return spec.repository


def _by_instance(items: Iterable[CleanupItem]) -> dict[str, list[CleanupItem]]:
    groups: dict[str, list[CleanupItem]] = defaultdict(list)
    for item in items:
        groups[item.instance_name].append(item)
    return dict(sorted(groups.items()))


def _client(item: CleanupItem) -> HarborClient:
    assert item.instance is not None
    return item.instance.client(timeout=float(settings.GC_HARBOR_TIMEOUT))


class _Listings:
    """A repository's artifacts, read once per job (None = the repository does not exist)."""

    def __init__(self, client: HarborClient) -> None:
        self.client, self.cache = client, dict[str, list[Artifact] | None]()

    def get(self, repository: str) -> list[Artifact] | None:
        if repository not in self.cache:
            project = repository.split("/", 1)[0]
            try:
                self.cache[repository] = self.client.list_artifacts(project, repository, with_tag=True)
            except e.NotFound:
                self.cache[repository] = None
        return self.cache[repository]


def _check(item: CleanupItem, listings: _Listings) -> None:
    arts = listings.get(item.repository)
    item.size, item.check_state, item.check_message = None, CleanupItem.Check.GONE, ""
    if arts is None:
        item.check_message = "the repository does not exist"
        return
    if item.kind == CleanupItem.Kind.REPOSITORY:
        item.check_state, item.size = CleanupItem.Check.PRESENT, sum(a.size for a in arts)
        item.check_message = f"{len(arts)} artifact(s) go with it"
        return
    if item.kind == CleanupItem.Kind.ARTIFACT:
        art = next((a for a in arts if a.digest == item.reference), None)
        if art is None:
            item.check_message = "no such artifact"
            return
        tags = [t.name for t in art.tags or []]
        item.check_state, item.size = CleanupItem.Check.PRESENT, art.size
        item.check_message = f"tags {', '.join(tags)} go with it" if tags else "untagged"
        return
    art = next((a for a in arts if any(t.name == item.reference for t in a.tags or [])), None)
    if art is None:
        item.check_message = "no such tag"
        return
    others = [t.name for t in art.tags or [] if t.name != item.reference]
    item.check_state, item.size = CleanupItem.Check.PRESENT, art.size
    item.check_message = (f"untags {art.digest[:19]}…; still tagged {', '.join(others)}" if others
                          else f"untags {art.digest[:19]}…, which is then untagged (GC with delete_untagged frees it)")


def dry_run(plan: CleanupPlan, *, say: Say) -> tuple[int, int, int]:
    """Check every item on its instance; (present, gone, not checkable). Deletes nothing."""
    counts = {"present": 0, "gone": 0, "error": 0}
    for name, items in _by_instance(plan.items.select_related("instance")).items():
        if items[0].instance is None:
            for item in items:
                item.check_state, item.check_message = CleanupItem.Check.ERROR, "the instance was removed"
        else:
            for item in items:
                item.check_state = CleanupItem.Check.PENDING
            try:
                with _client(items[0]) as client:
                    listings = _Listings(client)
                    for item in items:
                        _check(item, listings)
                        if item.check_state == CleanupItem.Check.GONE:
                            _forget(item)  # deleted elsewhere since the last collection
                if any(i.check_state == CleanupItem.Check.GONE for i in items) and items[0].instance is not None:
                    refresh_project_totals(items[0].instance, {i.project for i in items})
            except e.HarborError as exc:
                for item in items:
                    if item.check_state == CleanupItem.Check.PENDING:
                        item.check_state, item.check_message = CleanupItem.Check.ERROR, exc.message[:500]
                say(f"{name}: could not check: {exc.message}")
        CleanupItem.objects.bulk_update(items, ["size", "check_state", "check_message"])
        for item in items:
            counts[item.check_state or "error"] += 1
        found = [i for i in items if i.check_state == CleanupItem.Check.PRESENT]
        say(f"{name}: {len(found)} of {len(items)} item(s) found, "
            f"{sum(i.size or 0 for i in found if i.kind != CleanupItem.Kind.TAG)} bytes")
    CleanupPlan.objects.filter(pk=plan.pk).update(status=CleanupPlan.Status.CHECKED)
    return counts["present"], counts["gone"], counts["error"]


def confirm(plan: CleanupPlan, *, actor: Actor) -> JobRun:
    """Start the deletion of what the dry run found (once)."""
    with transaction.atomic():
        plan = CleanupPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != CleanupPlan.Status.CHECKED:
            raise ValidationError(f"clean-up {plan.pk} is {plan.get_status_display().lower()}: "
                                  "only a finished dry run can be confirmed")
        if not plan.items.filter(check_state=CleanupItem.Check.PRESENT).exists():
            raise ValidationError("the dry run found nothing to delete")
        plan.status, plan.confirmed_by, plan.confirmed_at = CleanupPlan.Status.DELETING, actor.name, now()
        plan.delete_job = start_job(DELETE_KIND, actor=actor, target=plan, params={"plan": plan.pk})
        plan.save(update_fields=["status", "confirmed_by", "confirmed_at", "delete_job"])
    return plan.delete_job


def _delete(client: HarborClient, item: CleanupItem) -> None:
    project = item.project
    if item.kind == CleanupItem.Kind.ARTIFACT:
        client.delete_artifact(project, item.repository, item.reference)
    elif item.kind == CleanupItem.Kind.TAG:
        client.delete_tag(project, item.repository, item.reference, item.reference)
    else:
        client.delete_repository(project, item.repository)


def _forget(item: CleanupItem) -> None:
    """Drop what was deleted from the report tables."""
    rows = UntaggedArtifact.objects.filter(instance=item.instance, repository=item.repository)
    if item.kind == CleanupItem.Kind.ARTIFACT:
        rows.filter(digest=item.reference).delete()
    elif item.kind == CleanupItem.Kind.REPOSITORY:
        rows.delete()
        RepositoryUsage.objects.filter(instance=item.instance, name=item.repository).delete()


def _finish(item: CleanupItem, result: str, message: str, actor: Actor) -> None:
    item.result, item.result_message, item.done_at = result, message[:1000], now()
    item.save(update_fields=["result", "result_message", "done_at"])
    record(actor=actor, action=f"maintenance.cleanup.delete_{item.kind}", obj=item.instance,
           object_repr=f"{_label(item)} on {item.instance_name}",
           after={"instance": item.instance_name, "kind": item.kind, "repository": item.repository,
                  "reference": item.reference, "size": item.size, "plan": item.plan_id, "result": result},
           outcome="success" if result != CleanupItem.Result.FAILED else "failure", message=message[:500])


def delete_items(plan: CleanupPlan, *, actor: Actor, say: Say) -> tuple[int, int]:
    """Delete every item the dry run found; (deleted, failed). Never stops at a failing instance."""
    deleted = failed = 0
    todo = plan.items.filter(check_state=CleanupItem.Check.PRESENT, result="").select_related("instance")
    for name, items in _by_instance(todo).items():
        touched: set[str] = set()
        try:
            if items[0].instance is None:
                raise e.HarborError("the instance was removed")
            with _client(items[0]) as client:
                for item in items:
                    try:
                        _delete(client, item)
                    except e.NotFound:
                        _finish(item, CleanupItem.Result.SKIPPED, "already gone", actor)
                        continue
                    except e.HarborError as exc:
                        if exc.transient or isinstance(exc, e.AuthFailed):
                            raise  # the instance is down: its other items fail the same way below
                        failed += 1
                        _finish(item, CleanupItem.Result.FAILED, exc.message, actor)
                        say(f"{name}: {_label(item)}: {exc.message}")
                        continue
                    deleted += 1
                    touched.add(item.project)
                    _forget(item)
                    _finish(item, CleanupItem.Result.DELETED, "", actor)
        except e.HarborError as exc:
            for item in items:
                if not item.result:
                    failed += 1
                    _finish(item, CleanupItem.Result.FAILED, exc.message, actor)
            say(f"{name}: stopped: {exc.message}")
        if items[0].instance is not None and touched:
            refresh_project_totals(items[0].instance, touched)
        done = [i for i in items if i.result == CleanupItem.Result.DELETED]
        say(f"{name}: {len(done)} deleted, {sum(1 for i in items if i.result == CleanupItem.Result.FAILED)} failed")
    CleanupPlan.objects.filter(pk=plan.pk).update(status=CleanupPlan.Status.DONE)
    return deleted, failed
