"""Repositories, artifacts, tags and quotas. Content arrives through `push_artifact()` (the
simulator has no registry v2 API); deleting frees nothing on disk until GC runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from harborops.harbor_sim import spec
from harborops.harbor_sim.auth import require_project, require_system
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, lookup, not_found
from harborops.harbor_sim.query import REPOSITORY_FIELDS, REPOSITORY_SHOWN, Cond, filter_rows, parse_q, query_rows
from harborops.harbor_sim.routes import Ctx, RouteSet, created, empty, ok, paged
from harborops.harbor_sim.routes.projects import get_project, visible_projects
from harborops.harbor_sim.state import Artifact, Project, Repository, Tag, digest_for

if TYPE_CHECKING:
    from harborops.harbor_sim.instance import HarborInstance

routes = RouteSet()
REPO_PATH = "/projects/{project_name}/repositories/{repository_name}"
NEVER_PULLED = "0001-01-01T00:00:00.000Z"
ART_PATH = REPO_PATH + "/artifacts/{reference}"


def push_artifact(
    inst: HarborInstance,
    project: str,
    repo: str,
    tag: str | None,
    size: int,
    *,
    who: str = "admin",
    digest: str | None = None,
    labels: list[str] | None = None,
) -> Artifact:
    """What `docker push project/repo:tag` does to Harbor's database (incl. quota and audit)."""
    with inst.lock:
        store = inst.store
        proj = store.project_by_name(project)
        if proj is None:
            raise HarborError(404, f"project {project} not found")
        if proj.storage_limit >= 0 and store.project_usage(proj.project_id) + size > proj.storage_limit:
            raise HarborError(412, f"quota exceeded for project {project}")
        now = inst.clock.now()
        full = f"{project}/{repo}"
        r = next((x for x in store.repositories.values() if x.name == full), None)
        if r is None:
            r = Repository(store.ids.next("repository"), proj.project_id, full, now, now)
            store.repositories[r.id] = r
        digest = digest or digest_for(f"{full}:{tag}:{size}:{store.ids.next('digest')}")
        art = next((a for a in r.artifacts.values() if a.digest == digest), None)
        if art is None:
            art = Artifact(store.ids.next("artifact"), r.id, proj.project_id, digest, size, now)
            r.artifacts[art.id] = art
        for label in labels or ():
            if label not in art.labels:
                art.labels.append(label)
        if tag:
            for other in r.artifacts.values():  # a tag moves to the new artifact
                other.tags = [t for t in other.tags if t.name != tag]
            art.tags.append(Tag(store.ids.next("tag"), tag, art.id, r.id, now))
        r.update_time = now
        inst.record(  # topic.go PushArtifactEvent.ResolveToAuditLog: op_desc always names the digest
            who,
            "create",
            "artifact",
            f"{full}:{tag}" if tag else f"{full}@{digest}",
            project=project,
            description=f"push artifact: {full}@{digest}",
        )
        _replication_event(inst, full, art, [tag] if tag else [])
        return art


def pull_artifact(inst: HarborInstance, repo_name: str, ref: str, *, at: datetime | None = None) -> Artifact:
    """What `docker pull repo:ref` records: the artifact's pull time (only ever moves forward: UPDATE ... WHERE
    pull_time IS NULL OR pull_time < ?) and one more pull on the repository. src/pkg/artifact/dao/dao.go@v2.13.0
    UpdatePullTime; src/controller/event/handler/internal/artifact.go@v2.13.0 ArtifactEventHandler.onPull
    (Harbor flushes both asynchronously; the simulator at once). ``at`` backdates a pull (demo, tests)."""
    with inst.lock:
        repo = next((r for r in inst.store.repositories.values() if r.name == repo_name), None)
        art = None if repo is None else next(
            (a for a in repo.artifacts.values() if a.digest == ref or any(t.name == ref for t in a.tags)), None)
        if repo is None or art is None:
            raise HarborError(404, f"artifact {repo_name}:{ref} not found")
        when = at or inst.clock.now()
        if art.pull_time is None or art.pull_time < when:
            art.pull_time = when
        repo.pull_count += 1
        return art


def _replication_event(
    inst: HarborInstance, repo: str, art: Artifact, tags: list[str], *, deleted: bool = False, tag_only: bool = False
) -> None:
    """Push / tag / delete events reach the replication handler (replicate.on_event)."""
    from harborops.harbor_sim.replicate import Cand, on_event

    on_event(inst, repo, Cand(art.digest, tags, list(art.labels), art.size), deleted=deleted, tag_only=tag_only)


def delete_artifact_by_ref(inst: HarborInstance, repo_name: str, ref: str, *, who: str) -> None:
    """What a registry DELETE of a manifest does (replication deleting on the destination)."""
    repo = next((r for r in inst.store.repositories.values() if r.name == repo_name), None)
    if repo is None:
        return
    art = next((a for a in repo.artifacts.values() if a.digest == ref or any(t.name == ref for t in a.tags)), None)
    if art is None:
        return
    tags = [t.name for t in art.tags]
    del repo.artifacts[art.id]
    store = inst.store
    store.garbage_bytes, store.garbage_manifests, store.garbage_blobs = (
        store.garbage_bytes + art.size, store.garbage_manifests + 1, store.garbage_blobs + 2
    )  # fmt: skip
    res = f"{repo.name}@{art.digest}"
    inst.record(who, "delete", "artifact", res, project=repo.name.split("/")[0], description=f"delete artifact: {res}")
    _replication_event(inst, repo.name, art, tags, deleted=True)


def delete_tag_by_name(inst: HarborInstance, repo_name: str, tag: str, *, who: str) -> None:
    repo = next((r for r in inst.store.repositories.values() if r.name == repo_name), None)
    if repo is None:
        return
    art = next((a for a in repo.artifacts.values() if any(t.name == tag for t in a.tags)), None)
    if art is None:
        return
    art.tags = [t for t in art.tags if t.name != tag]
    inst.record(who, "delete", "tag", f"{repo.name}:{tag}", project=repo.name.split("/")[0])
    _replication_event(inst, repo.name, art, [tag], deleted=True, tag_only=True)


def render_repo(r: Repository) -> dict[str, Any]:
    return {
        "id": r.id,
        "project_id": r.project_id,
        "name": r.name,
        "description": r.description,
        "artifact_count": len(r.artifacts),
        "pull_count": r.pull_count,
        "creation_time": iso(r.creation_time),
        "update_time": iso(r.update_time),
    }


def render_artifact(ctx: Ctx, r: Repository, a: Artifact, with_tag: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "type": "IMAGE",
        "media_type": "application/vnd.docker.container.image.v1+json",
        "manifest_media_type": "application/vnd.docker.distribution.manifest.v2+json",
        "artifact_type": "application/vnd.docker.container.image.v1+json",
        "project_id": a.project_id,
        "repository_id": r.id,
        "repository_name": r.name,
        "digest": a.digest,
        "size": a.size,
        "push_time": iso(a.push_time),
        # never pulled: the NULL column reads as Go's zero time and is sent as such
        # (src/server/v2.0/handler/model/artifact.go@v2.3.0 and @v2.15.0 ToSwagger strfmt.DateTime(a.PullTime))
        "pull_time": iso(a.pull_time) if a.pull_time else NEVER_PULLED,
        "extra_attrs": {"architecture": "amd64", "os": "linux"},
        "labels": [],
        "references": [],
        "addition_links": {"build_history": {"absolute": False, "href": f"{ctx.api_root}/projects/x"}},
    }
    if with_tag and a.tags:
        out["tags"] = [
            {
                "id": t.id,
                "repository_id": t.repository_id,
                "artifact_id": t.artifact_id,
                "name": t.name,
                "push_time": iso(t.push_time),
                "immutable": False,
            }
            for t in a.tags
        ]
    return spec.shape(ctx.inst.spec_name, "Artifact", out)


def _repo(ctx: Ctx, action: str = "read") -> tuple[Project, Repository]:
    proj = get_project(ctx, key="project_name")
    require_project(ctx.inst, ctx.who, proj, "repository", action)
    return proj, ctx.inst.store.repository(proj, unquote(ctx.params["repository_name"]))


def _artifact(ctx: Ctx, repo: Repository) -> Artifact:
    ref = ctx.params["reference"]
    for a in repo.artifacts.values():
        if a.digest == ref or any(t.name == ref for t in a.tags):
            return a
    raise not_found(f"artifact {repo.name}:{ref} not found")


def _discard(ctx: Ctx, a: Artifact) -> None:
    store = ctx.inst.store
    store.garbage_bytes += a.size
    store.garbage_manifests += 1
    store.garbage_blobs += 2  # config + one layer: enough for GC's "N blobs and M manifests"


def _repo_listing(ctx: Ctx, repos: list[Repository]) -> SimResponse:
    rows = [{**render_repo(r), "_r": r} for r in repos]
    # RepoRecord columns (repository_id, not id); default sort CreationTime desc, RepositoryID desc
    default = [("creation_time", True), ("id", True)]
    rows = query_rows(rows, ctx.query.get("q"), ctx.query.get("sort"), REPOSITORY_FIELDS, REPOSITORY_SHOWN, default)
    return paged(ctx, [{k: v for k, v in r.items() if k != "_r"} for r in rows])


@routes.get("/repositories")
def all_repositories(ctx: Ctx) -> SimResponse:
    ids = {p.project_id for p in visible_projects(ctx)}
    return _repo_listing(ctx, [r for r in ctx.inst.store.repositories.values() if r.project_id in ids])


@routes.get("/projects/{project_name}/repositories")
def project_repositories(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, key="project_name")
    require_project(ctx.inst, ctx.who, proj, "repository", "list")
    return _repo_listing(ctx, ctx.inst.store.project_repos(proj.project_id))


@routes.get(REPO_PATH)
def get_repository(ctx: Ctx) -> SimResponse:
    return ok(render_repo(_repo(ctx)[1]))


@routes.put(REPO_PATH)
def update_repository(ctx: Ctx) -> SimResponse:
    _, repo = _repo(ctx, "update")
    repo.description = str(ctx.body_obj().get("description") or "")
    repo.update_time = ctx.now
    return empty()


@routes.delete(REPO_PATH)
def delete_repository(ctx: Ctx) -> SimResponse:
    proj, repo = _repo(ctx, "delete")
    for a in repo.artifacts.values():
        _discard(ctx, a)
    del ctx.inst.store.repositories[repo.id]
    ctx.inst.record(ctx.who.name, "delete", "repository", repo.name, project=proj.name)
    return empty()


def _tag_filter(conds: list[Cond], arts: list[Artifact]) -> list[Artifact]:
    """``q=tags=...`` on an artifact list (BEHAVIOUR["artifact_q_tags"]): src/pkg/artifact/dao/dao.go@v2.3.0 and
    @v2.15.0 setTagQuery — ``tags=nil`` untagged only, ``tags=*`` tagged only, ``tags=~x`` a tag name
    containing x, ``tags=x`` the artifact carrying tag x; any other value kind is a 400."""
    for cond in conds:
        if cond.key not in ("tags", "Tags"):
            continue
        value = str(cond.values[0]) if cond.values else ""
        if cond.kind == "fuzzy":
            arts = [a for a in arts if any(value.lower() in t.name.lower() for t in a.tags)]
        elif cond.kind != "exact":
            raise bad_request('the value of "tags" query can only be fuzzy match value or exact match value')
        elif value == "*":
            arts = [a for a in arts if a.tags]
        elif value == "nil":
            arts = [a for a in arts if not a.tags]
        else:
            arts = [a for a in arts if any(t.name == value for t in a.tags)]
    return arts


@routes.get(REPO_PATH + "/artifacts")
def list_artifacts(ctx: Ctx) -> SimResponse:
    _, repo = _repo(ctx)
    with_tag = ctx.query.bool("with_tag", True) is not False
    conds = parse_q(ctx.query.get("q"))
    arts = _tag_filter(conds, sorted(repo.artifacts.values(), key=lambda a: a.push_time, reverse=True))
    rows = filter_rows([{"digest": a.digest, "size": a.size, "_a": a} for a in arts], conds, ("digest", "size"))
    return paged(ctx, [render_artifact(ctx, repo, r["_a"], with_tag) for r in rows])


@routes.post(REPO_PATH + "/artifacts")
def copy_artifact(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, key="project_name")
    require_project(ctx.inst, ctx.who, proj, "artifact", "create")
    src = ctx.query.get("from") or ""
    src_repo, sep, ref = src.rpartition("@") if "@" in src else src.rpartition(":")
    sp, _, sr = src_repo.partition("/")
    source = ctx.inst.store.project_by_name(sp)
    if not sep or source is None:
        raise bad_request(f"invalid from: {src}")
    srepo = ctx.inst.store.repository(source, sr)
    art = next((a for a in srepo.artifacts.values() if a.digest == ref or any(t.name == ref for t in a.tags)), None)
    if art is None:
        raise not_found(f"artifact {src} not found")
    new = push_artifact(
        ctx.inst, proj.name, unquote(ctx.params["repository_name"]), None, art.size, who=ctx.who.name, digest=art.digest
    )
    return created(ctx, new.digest)


@routes.get(ART_PATH)
def get_artifact(ctx: Ctx) -> SimResponse:
    _, repo = _repo(ctx)
    return ok(render_artifact(ctx, repo, _artifact(ctx, repo)))


@routes.delete(ART_PATH)
def delete_artifact(ctx: Ctx) -> SimResponse:
    proj, repo = _repo(ctx, "read")
    require_project(ctx.inst, ctx.who, proj, "artifact", "delete")
    art = _artifact(ctx, repo)
    del repo.artifacts[art.id]
    _discard(ctx, art)
    res = f"{repo.name}@{art.digest}"  # topic.go DeleteArtifactEvent.ResolveToAuditLog: always by digest
    ctx.inst.record(ctx.who.name, "delete", "artifact", res, project=proj.name, description=f"delete artifact: {res}")
    _replication_event(ctx.inst, repo.name, art, [t.name for t in art.tags], deleted=True)
    return empty()


@routes.get(ART_PATH + "/tags")
def list_tags(ctx: Ctx) -> SimResponse:
    _, repo = _repo(ctx)
    art = _artifact(ctx, repo)
    return paged(ctx, render_artifact(ctx, repo, art).get("tags", []))


@routes.post(ART_PATH + "/tags")
def create_tag(ctx: Ctx) -> SimResponse:
    proj, repo = _repo(ctx)
    require_project(ctx.inst, ctx.who, proj, "tag", "create")
    art = _artifact(ctx, repo)
    name = str(ctx.body_obj().get("name") or "")
    if not name:
        raise bad_request("tag name is required")
    if any(t.name == name for a in repo.artifacts.values() for t in a.tags):
        raise conflict(f"tag {name} already exists")
    tag = Tag(ctx.inst.store.ids.next("tag"), name, art.id, repo.id, ctx.now)
    art.tags.append(tag)
    ctx.inst.record(ctx.who.name, "create", "tag", f"{repo.name}:{name}", project=proj.name)
    _replication_event(ctx.inst, repo.name, art, [name])
    return created(ctx, name)


@routes.delete(ART_PATH + "/tags/{tag_name}")
def delete_tag(ctx: Ctx) -> SimResponse:
    proj, repo = _repo(ctx)
    require_project(ctx.inst, ctx.who, proj, "tag", "delete")
    art = _artifact(ctx, repo)
    name = ctx.params["tag_name"]
    if not any(t.name == name for t in art.tags):
        raise not_found(f"tag {name} not found")
    art.tags = [t for t in art.tags if t.name != name]
    ctx.inst.record(ctx.who.name, "delete", "tag", f"{repo.name}:{name}", project=proj.name)
    _replication_event(ctx.inst, repo.name, art, [name], deleted=True, tag_only=True)
    return empty()


@routes.get("/projects/{project_name_or_id}/artifacts", feature="project_artifacts")
def project_artifacts(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "artifact", "list")
    latest = ctx.query.bool("latest_in_repository", False)
    out = []
    for repo in ctx.inst.store.project_repos(proj.project_id):
        arts = sorted(repo.artifacts.values(), key=lambda a: a.push_time, reverse=True)
        out += [render_artifact(ctx, repo, a) for a in (arts[:1] if latest else arts)]
    return paged(ctx, out)


# --- quotas ------------------------------------------------------------------------------------------
def render_quota(ctx: Ctx, p: Project) -> dict[str, Any]:
    owner = ctx.inst.store.users.get(p.owner_id)
    ref = {"id": p.project_id, "name": p.name, "owner_name": owner.username if owner else ""}
    return {
        "id": p.project_id,
        "ref": ref,
        "hard": {"storage": p.storage_limit},
        "used": {"storage": ctx.inst.store.project_usage(p.project_id)},
        "creation_time": iso(p.creation_time),
        "update_time": iso(p.update_time),
    }


@routes.get("/quotas")
def list_quotas(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "quota", "list")
    rows = [render_quota(ctx, p) for p in ctx.inst.store.projects.values()]
    if ref_id := ctx.query.get("reference_id"):
        rows = [r for r in rows if str(r["ref"]["id"]) == ref_id]
    sort = (ctx.query.get("sort") or "").strip()
    if sort.lstrip("-") in ("hard.storage", "used.storage"):
        part = sort.lstrip("-").split(".")[0]
        rows.sort(key=lambda r: int(r[part]["storage"]), reverse=sort.startswith("-"))
    return paged(ctx, rows)


def _quota_project(ctx: Ctx) -> Project:
    return lookup(ctx.inst.store.projects, ctx.params["id"], "quota")


@routes.get("/quotas/{id}")
def get_quota(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "quota", "read")
    return ok(render_quota(ctx, _quota_project(ctx)))


@routes.put("/quotas/{id}")
def put_quota(ctx: Ctx) -> SimResponse:
    require_system(ctx.who, "quota", "update")
    p = _quota_project(ctx)
    hard = ctx.body_obj().get("hard")
    if not isinstance(hard, dict) or not isinstance(hard.get("storage"), int):
        raise bad_request("hard.storage is required")
    storage = int(hard["storage"])
    if storage != -1 and storage < ctx.inst.store.project_usage(p.project_id):
        raise bad_request("the new hard limit is below the current usage")
    p.storage_limit = storage
    p.update_time = ctx.now
    return empty()
