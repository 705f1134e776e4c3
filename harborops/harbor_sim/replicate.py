"""Replication that moves state between simulated Harbors of one Fleet.

Followed from Harbor's source (v2.13.0 unless noted; the same at v2.8.0 and v2.15.0):
- src/controller/replication/flow/copy.go copyFlow.Run: fetch the source resources (filtered), map each to
  its destination (stage.go replaceNamespace: dest_namespace + dest_namespace_replace_count), prepare the
  destination (create projects), then one task per repository; no resources -> the execution is done
  ("no resources need to be replicated"). A flow error marks the execution Failed with the error as its
  status text (controller/replication/execution.go markError) and no tasks.
- src/controller/replication/flow/deletion.go: event-based deletions become "deletion" tasks.
- src/pkg/reg/filter/{repository,artifact,resource}.go: name (doublestar), tag (doublestar, matched tags
  only), label (all labels, `excludes` decoration); src/pkg/reg/util/pattern.go Match (empty pattern = all).
- src/controller/event/handler/replication/{replication,event/handler}.go: push, tag create, tag delete and
  artifact delete fire the enabled event-based push policies whose filters match (deletions only where
  replicate_deletion).
- src/controller/replication/transfer/image/transfer.go copy/copyArtifact/delete: the task log lines, the
  "already exists, skip" / override rules. Log line format: src/lib/log/textformatter.go (RFC 3339, level,
  [file:line]).
- src/controller/replication/execution.go@v2.14.0 Start: single_active_replication marks a new execution
  Failed ("Execution skipped: active replication still in progress.") while one runs.

A registry endpoint whose URL is another instance of the same Fleet (Fleet.instance_at) is that instance;
any other URL is an external registry with nothing in it (pulls find nothing; pushes land nowhere) unless
it is in the source's `unreachable_urls`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from harborops.harbor_sim.http import bad_request

if TYPE_CHECKING:
    from harborops.harbor_sim.instance import HarborInstance
    from harborops.harbor_sim.jobs import ReplExecution
    from harborops.harbor_sim.state import Registry

TRANSFER = "/controller/replication/transfer/image/transfer.go"


# --- patterns and filters ------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _glob_re(pattern: str) -> re.Pattern[str]:
    """bmatcuk/doublestar Match: `**` spans path separators, `*` and `?` do not; {a,b} and [...] work."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                raise ValueError("syntax error in pattern")
            body = pattern[i + 1 : j]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = j + 1
            continue
        elif c == "{":
            j = pattern.find("}", i)
            if j < 0:
                raise ValueError("syntax error in pattern")
            out.append("(?:" + "|".join(_glob_re(p).pattern[:-2] for p in pattern[i + 1 : j].split(",")) + ")")
            i = j + 1
            continue
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def match(pattern: str, value: str) -> bool:
    """src/pkg/reg/util/pattern.go Match: an empty pattern matches everything."""
    return not pattern or _glob_re(pattern).match(value) is not None


@dataclass(slots=True)
class Cand:
    """One artifact of a replication resource (model.Artifact): digest, the tags to copy, labels."""

    digest: str
    tags: list[str]
    labels: list[str] = field(default_factory=list)
    size: int = 0


def _value(f: dict[str, Any]) -> Any:
    return f.get("value")


def repo_matches(name: str, filters: list[dict[str, Any]]) -> bool:
    return all(match(str(_value(f) or ""), name) for f in filters if f.get("type") == "name")


def resource_matches(filters: list[dict[str, Any]]) -> bool:
    """The resource filter: every simulated artifact is an image (model.ResourceTypeImage/Artifact)."""
    return all(str(_value(f) or "") in ("", "image", "artifact") for f in filters if f.get("type") == "resource")


def filter_artifacts(arts: list[Cand], filters: list[dict[str, Any]]) -> list[Cand]:
    """filter/artifact.go: label filters (all labels present; `excludes` inverts), tag filters (keep the
    matched tags only; an untagged artifact is matched against "")."""
    for f in filters:
        excludes = f.get("decoration") == "excludes"
        if f.get("type") == "label":
            want = [str(x) for x in (_value(f) or [])]
            if want:
                arts = [a for a in arts if all(w in a.labels for w in want) != excludes]
        elif f.get("type") == "tag":
            pat = str(_value(f) or "")
            if not pat:
                continue
            kept: list[Cand] = []
            for a in arts:
                if not a.tags:
                    if match(pat, "") != excludes:
                        kept.append(a)
                    continue
                tags = [t for t in a.tags if match(pat, t) != excludes]
                if tags:
                    kept.append(Cand(a.digest, tags, a.labels, a.size))
            arts = kept
    return arts


def replace_namespace(repository: str, namespace: str, replace_count: int) -> str:
    """flow/stage.go replaceNamespace (harbor adapter: any number of path components)."""
    if not namespace:
        return repository
    parts = repository.split("/")
    if replace_count < 0:
        prefix = namespace
    elif replace_count > len(parts) - 1:
        raise ValueError(
            f'the source repository "{repository}" contains only {len(parts) - 1} path components '
            f"[{' '.join(parts[:-1])}] excepting the last one, but the destination namespace flattening "
            f"level is {replace_count}"
        )
    else:
        prefix = "/".join([namespace, *parts[replace_count:-1]])
    return f"{prefix}/{parts[-1]}"


def check_policy_cron(inst: HarborInstance, cron: str) -> None:
    """model.go Policy.Validate: the cron must parse; from 2.9 its seconds must be 0 and minutes not '*'."""
    fields = cron.split()
    if len(fields) != 6:
        raise bad_request(f"invalid cron string for scheduled trigger: {cron}")
    try:
        for f, (lo, hi) in zip(fields, _CRON_RANGES, strict=True):
            _cron_set(f, lo, hi)
    except ValueError:
        raise bad_request(f"invalid cron string for scheduled trigger: {cron}") from None
    if inst.behaviour.supports("replication_cron_minute_restricted"):
        if fields[0] != "0":
            raise bad_request("the 1st field (indicating Seconds of time) of the cron setting must be 0")
        if fields[1] == "*":
            raise bad_request("* is not allowed for the Minutes field of the cron setting of replication policy")


# --- cron in simulated time ------------------------------------------------------------------------
_CRON_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _cron_set(field_: str, lo: int, hi: int) -> set[int]:
    out: set[int] = set()
    for part in field_.split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s else 1
        if rng in ("*", "?"):
            a, b = lo, hi
        elif "-" in rng:
            a, b = (int(x) for x in rng.split("-", 1))
        else:
            a = b = int(rng)
            if step_s:
                b = hi
        if a < lo or b > hi or step < 1:
            raise ValueError(part)
        out.update(range(a, b + 1, step))
    return out


def cron_fires(cron: str, after: datetime, until: datetime, *, limit: int = 10000) -> list[datetime]:
    """Fire times of a 6-field cron (robfig/cron with seconds, UTC) in (after, until]."""
    sets = [_cron_set(f, lo, hi) for f, (lo, hi) in zip(cron.split(), _CRON_RANGES, strict=True)]
    sec, mins, hours, dom, mon, dow = sets
    dow = {d % 7 for d in dow}
    dom_star, dow_star = cron.split()[3] in ("*", "?"), cron.split()[5] in ("*", "?")
    out: list[datetime] = []
    t = after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    while t <= until and len(out) < limit:
        day_ok_dom, day_ok_dow = t.day in dom, (t.isoweekday() % 7) in dow
        day_ok = day_ok_dom and day_ok_dow if (dom_star or dow_star) else day_ok_dom or day_ok_dow
        if t.month not in mon or not day_ok:
            t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            continue
        if t.hour not in hours:
            t = (t + timedelta(hours=1)).replace(minute=0, second=0)
            continue
        if t.minute not in mins:
            t = (t + timedelta(minutes=1)).replace(second=0)
            continue
        if t.second in sec:
            out.append(t)
        t += timedelta(seconds=1)
    return out


# --- peers ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class Side:
    """One end of a replication as the jobservice sees it: a simulated instance, an external (empty)
    registry, or an error it answers with (connection refused / 5xx)."""

    url: str
    inst: HarborInstance | None
    error: str = ""  # what the registry (/v2/) answers
    api_down: bool = False  # the API is unreachable too (connection refused)
    robot: Any = None  # the endpoint's credential is this robot of `inst` (its permissions apply)


LOCAL_URL = "http://core:8080"


def resolve(inst: HarborInstance, reg: Registry | None) -> Side:
    if reg is None:
        return Side(LOCAL_URL, inst)
    side = resolve_url(inst, reg.url)
    if side.inst is not None and not side.error and not _credential_ok(side.inst, reg):
        # the harbor adapter talks to the peer with the endpoint's credential; a wrong or missing one is a
        # 401 from the peer's API and registry alike (robot deleted, secret rotated, no credential)
        body = '{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized"}]}'
        return Side(side.url, side.inst, f"http status code: 401, body: {body}", api_down=True)
    if side.inst is not None:
        key = str(reg.credential.get("access_key") or "")
        side.robot = next((r for r in side.inst.store.robots.values() if r.name == key), None)
    return side


def denied(side: Side, resource: str, action: str, repo: str) -> str:
    """What the peer answers when the endpoint's robot lacks (resource, action) on the repository's project
    ("" when allowed). The v2 API checks ResourceRepository with the HTTP method's action (GET/HEAD pull;
    PUT/POST/PATCH push; DELETE delete): src/server/middleware/v2auth/access.go getAction and auth.go
    (rbac_project.NewNamespace(pid).Resource(rbac.ResourceRepository)) @v2.3.0..@v2.15.0; a tag deletion
    goes through the API: src/server/v2.0/handler/artifact.go DeleteTag RequireProjectAccess(ActionDelete,
    ResourceTag)."""
    from harborops.harbor_sim.auth import robot_allows

    if side.robot is None or robot_allows(side.robot, resource, action, repo.split("/", 1)[0]):
        return ""
    if resource == "repository":
        return (f"http status code: 401, body: {{\"errors\":[{{\"code\":\"UNAUTHORIZED\",\"message\":"
                f"\"unauthorized to access repository: {repo}, action: {action}\"}}]}}")
    return "http status code: 403, body: {\"errors\":[{\"code\":\"FORBIDDEN\",\"message\":\"forbidden\"}]}"


def _credential_ok(peer: HarborInstance, reg: Registry) -> bool:
    import base64

    from harborops.harbor_sim.auth import authenticate
    from harborops.harbor_sim.http import HarborError

    key, secret = str(reg.credential.get("access_key") or ""), str(reg.credential.get("access_secret") or "")
    if not key:
        return False
    try:
        who = authenticate(peer, "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode())
    except HarborError:
        return False
    return who.authenticated


def resolve_url(inst: HarborInstance, url: str) -> Side:
    url = url.rstrip("/")
    fleet = getattr(inst, "fleet", None)
    peer = fleet.instance_at(url) if fleet is not None else None
    host = url.split("://", 1)[-1].split("/", 1)[0]
    if url in inst.unreachable_urls or (peer is not None and peer.down):
        return Side(url, peer, f'Get "{url}/v2/": dial tcp {host}: connect: connection refused', api_down=True)
    if peer is not None and peer.registry_fault:
        code = peer.registry_fault
        return Side(url, peer, f"http status code: {code}, body: {{\"errors\":[{{\"code\":\"UNKNOWN\"}}]}}")
    return Side(url, peer)


def fetch(side: Side, filters: list[dict[str, Any]]) -> list[tuple[str, list[Cand]]]:
    """FetchArtifacts of the harbor adapter: repositories (name filter) then artifacts (tag/label filters)."""
    if side.inst is None or not resource_matches(filters):
        return []
    out = []
    for repo in sorted(side.inst.store.repositories.values(), key=lambda r: r.name):
        if not repo_matches(repo.name, filters):
            continue
        arts = [
            Cand(a.digest, [t.name for t in a.tags], list(a.labels), a.size)
            for a in sorted(repo.artifacts.values(), key=lambda a: a.id)
        ]
        arts = filter_artifacts(arts, filters)
        if arts:
            out.append((repo.name, arts))
    return out


def refs(arts: list[Cand]) -> list[str]:
    """copy.go getResourceReferences: tags, or the digest of an untagged artifact."""
    return [r for a in arts for r in (a.tags or [a.digest])]


def resource_name(repo: str, arts: list[Cand]) -> str:
    return f"{repo} [{len(refs(arts))} item(s) in total]"


# --- applying a task -----------------------------------------------------------------------------
def _line(ts: datetime, level: str, line: int, msg: str) -> str:
    return f"{ts.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} [{level}] [{TRANSFER}:{line}]: {msg}"


def apply_copy(
    src: Side, dst: Side, src_repo: str, dst_repo: str, arts: list[Cand], *, override: bool, at: datetime, who: str,
    forced_error: str = "",
) -> tuple[bool, list[str]]:
    """transfer.go copy: each reference is copied unless it exists with the same digest (skip) or
    exists with another digest and override is off (skip with a warning). Returns (ok, log lines)."""
    from harborops.harbor_sim.routes.artifacts import push_artifact

    log = [
        _line(at, "INFO", 140, f"client for source registry [type: harbor, URL: {src.url}, insecure: true] created"),
        _line(at, "INFO", 150, f"client for destination registry [type: harbor, URL: {dst.url}, insecure: true] created"),  # noqa: E501
    ]
    src_refs = refs(arts)
    joined = ",".join(src_refs)
    log.append(_line(at, "INFO", 183, f"copying {src_repo}:[{joined}](source registry) to {dst_repo}:[{joined}](destination registry)..."))  # noqa: E501
    failed = False
    for a in arts:
        for ref in a.tags or [a.digest]:
            log.append(_line(at, "INFO", 211, f"copying {src_repo}:{ref}(source registry) to {dst_repo}:{ref}(destination registry)..."))  # noqa: E501
            if src.error:
                msg = f"failed to pull the manifest of artifact {src_repo}:{ref}: {src.error}"
                log.append(_line(at, "ERROR", 471, msg))
                log.append(_line(at, "ERROR", 195, src.error))
                failed = True
                continue
            log.append(_line(at, "INFO", 468, f"pulling the manifest of artifact {src_repo}:{ref} ..."))
            log.append(_line(at, "INFO", 474, f"the manifest of artifact {src_repo}:{ref} pulled"))
            err = dst.error or forced_error or denied(dst, "repository", "pull", dst_repo)
            if err:  # the destination's registry answers an error (or the fault says so)
                msg = f"failed to check the existence of the manifest of artifact {dst_repo}:{ref} on the destination registry: {err}"  # noqa: E501
                log += [_line(at, "ERROR", 482, msg), _line(at, "ERROR", 195, err)]
                failed = True
                continue
            existing = _existing(dst.inst, dst_repo, ref) if dst.inst is not None else None
            if existing is not None:
                if existing == a.digest:
                    log.append(_line(at, "INFO", 227, f"the artifact {dst_repo}:{ref} already exists on the destination registry, skip"))  # noqa: E501
                    continue
                if not override:
                    log.append(_line(at, "WARNING", 233, f'the same name artifact {dst_repo}:{ref} exists on the destination registry, but the "override" is set to false, skip'))  # noqa: E501
                    continue
                log.append(_line(at, "WARNING", 238, f'the same name artifact {dst_repo}:{ref} exists on the destination registry and the "override" is set to true, continue...'))  # noqa: E501
            layer = "sha256:" + a.digest[-64:][::-1]
            log.append(_line(at, "INFO", 290, f"copying the blob {layer}(the 1th running)..."))
            log.append(_line(at, "INFO", 292, f"copy the blob {layer} completed"))
            log.append(_line(at, "INFO", 497, f"pushing the manifest of artifact {dst_repo}:{ref} ..."))
            refused = denied(dst, "repository", "push", dst_repo)
            if refused:
                log += [_line(at, "ERROR", 500, f"failed to push manifest of artifact {dst_repo}:{ref}: {refused}"),
                        _line(at, "ERROR", 195, refused)]
                failed = True
                continue
            if dst.inst is not None:
                project, _, name = dst_repo.partition("/")
                push_artifact(dst.inst, project, name, (a.tags and ref) or None, a.size, who=who, digest=a.digest,
                              labels=a.labels)  # fmt: skip
            log.append(_line(at, "INFO", 509, f"the manifest of artifact {dst_repo}:{ref} pushed"))
            log.append(_line(at, "INFO", 254, f"copy {src_repo}:{ref}(source registry) to {dst_repo}:{ref}(destination registry) completed"))  # noqa: E501
    if failed:
        log.append(_line(at, "ERROR", 201, "got error during the whole transfer period, mark the job failure"))
        return False, log
    log.append(_line(at, "INFO", 205, f"copy {src_repo}:[{joined}](source registry) to {dst_repo}:[{joined}](destination registry) completed"))  # noqa: E501
    return True, log


def _existing(inst: HarborInstance, repo_name: str, ref: str) -> str | None:
    repo = next((r for r in inst.store.repositories.values() if r.name == repo_name), None)
    if repo is None:
        return None
    for a in repo.artifacts.values():
        if a.digest == ref or any(t.name == ref for t in a.tags):
            return a.digest
    return None


def apply_delete(
    dst: Side, dst_repo: str, arts: list[Cand], *, tag_only: bool, at: datetime, who: str
) -> tuple[bool, list[str]]:
    """transfer.go delete / deleteTag on the destination."""
    from harborops.harbor_sim.routes.artifacts import delete_artifact_by_ref, delete_tag_by_name

    log: list[str] = []
    ok = True
    for a in arts:
        for ref in a.tags or [a.digest]:
            if dst.error:
                log.append(_line(at, "ERROR", 523, f"failed to check the existence of the manifest of artifact {dst_repo}:{ref} on the destination registry: {dst.error}"))  # noqa: E501
                ok = False
                continue
            if dst.inst is None or _existing(dst.inst, dst_repo, ref) is None:
                what = "tag" if tag_only else "artifact"
                log.append(_line(at, "INFO", 551 if tag_only else 528, f"the {what} {dst_repo}:{ref} doesn't exist on the destination registry, skip"))  # noqa: E501
                continue
            refused = denied(dst, *(("tag", "delete") if tag_only else ("repository", "delete")), dst_repo)
            if refused:
                what = "tag" if tag_only else "manifest of artifact"
                msg = f"failed to delete the {what} {dst_repo}:{ref} on the destination registry: {refused}"
                log.append(_line(at, "ERROR", 554 if tag_only else 533, msg))
                ok = False
                continue
            if tag_only:
                delete_tag_by_name(dst.inst, dst_repo, ref, who=who)
                log.append(_line(at, "INFO", 558, f"the tag {dst_repo}:{ref} is deleted"))
            else:
                delete_artifact_by_ref(dst.inst, dst_repo, ref, who=who)
                log.append(_line(at, "INFO", 537, f"the manifest of artifact {dst_repo}:{ref} is deleted"))
    return ok, log


# --- events --------------------------------------------------------------------------------------
def on_event(
    inst: HarborInstance, repo_name: str, art: Cand, *, deleted: bool = False, tag_only: bool = False
) -> list[ReplExecution]:
    """event/handler.go getRelatedPolicies + Start: one execution per matching event-based push policy."""
    started = []
    for p in list(inst.store.policies.values()):
        if not p["enabled"] or p.get("_src") or p["trigger"]["type"] != "event_based":
            continue
        if deleted and not p["replicate_deletion"]:
            continue
        filters = p.get("filters") or []
        if not repo_matches(repo_name, filters) or not resource_matches(filters):
            continue
        arts = filter_artifacts([art], filters)
        if not arts:
            continue
        started.append(inst.jobs.start_replication(p, "event_based", resource=(repo_name, arts, deleted, tag_only)))
    return started


# --- settling over simulated time ------------------------------------------------------------------
def prepare_projects(inst: HarborInstance, names: list[str]) -> None:
    """base/adapter.go PrepareForPush: create the destination projects that do not exist yet."""
    from harborops.harbor_sim.routes.projects import create_project

    for name in dict.fromkeys(names):
        if inst.store.project_by_name(name) is None:
            create_project(inst, name, owner=inst.admin, public=False)


def mark_busy(inst: HarborInstance) -> None:
    fleet = getattr(inst, "fleet", None)
    if fleet is not None:
        fleet.active.add(inst)


def _fire_schedules(inst: HarborInstance, now: datetime) -> None:
    """Scheduled policies: the scheduler starts an execution (trigger "scheduled") at each cron time."""
    for p in list(inst.store.policies.values()):
        if not p["enabled"] or p["trigger"]["type"] != "scheduled":
            continue
        cron = p["trigger"]["trigger_settings"].get("cron") or ""
        since = p.get("_sched_from") or p["_updated"]
        if now <= since:
            continue
        p["_sched_from"] = now
        for when in cron_fires(cron, since, now):
            inst.jobs.start_replication(p, "scheduled", at=when)


def _next_task(insts: list[HarborInstance], now: datetime) -> tuple[HarborInstance, Any, Any] | None:
    best: tuple[datetime, int, HarborInstance, Any, Any] | None = None
    for inst in insts:
        for ex in inst.jobs.repl.values():
            for t in ex.tasks:
                if t.applied:
                    continue
                done = ex.done_at(t)
                if ex.stopped_at is not None and (done is None or done > ex.stopped_at):
                    t.applied = True  # stopped before it ran: no effect
                    continue
                if done is None or done > now or ex.outcome == "hang":
                    continue
                if best is None or (done, t.id) < best[:2]:
                    best = (done, t.id, inst, ex, t)
    return None if best is None else best[2:]


def settle(inst: HarborInstance) -> None:
    """Apply every replication task that finished by now, earliest first, across the fleet (a copy can
    fire the destination's event-based policies, whose tasks may finish before now too)."""
    fleet = getattr(inst, "fleet", None)
    now = inst.clock.now()
    insts = list(fleet.active) if fleet is not None else ([inst] if inst.jobs.repl or inst.store.policies else [])
    if not insts:
        return
    for i in insts:
        _fire_schedules(i, now)
    for _ in range(100000):
        if fleet is not None:
            insts = list(fleet.active)
        hit = _next_task(insts, now)
        if hit is None:
            break
        _apply(*hit)
    if fleet is not None:
        fleet.active = {i for i in fleet.active if i.jobs.repl_busy()}


def _apply(inst: HarborInstance, ex: ReplExecution, t: Any) -> None:
    t.applied = True
    p = inst.store.policies.get(ex.policy_id)
    if p is None:
        t.fail = True
        return
    regs = inst.store.registries
    src = resolve(inst, regs.get(p["_src"]) if p.get("_src") else None)
    dst = resolve(inst, regs.get(p["_dest"]) if p.get("_dest") else None)
    at = ex.done_at(t) or inst.clock.now()
    reg = regs.get(p.get("_dest") or p.get("_src") or 0)
    who = str((reg.credential.get("access_key") if reg else "") or "admin")
    if t.operation == "deletion":
        ok, log = apply_delete(dst, t.dst_repo, t.arts, tag_only=t.tag_only, at=at, who=who)
    else:
        last = t is ex.tasks[-1]
        forced = "http status code: 500, body: internal server error" if ex.outcome == "fail" and last else ""
        ok, log = apply_copy(
            src, dst, t.src_repo, t.dst_repo, t.arts, override=bool(p.get("override", True)), at=at, who=who,
            forced_error=forced,
        )  # fmt: skip
    t.fail, t.log = not ok, log
