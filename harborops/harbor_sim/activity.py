"""What people do to a Harbor besides calling its API: pull an image and log in to the portal. Each
writes the audit row the real Harbor writes, through ``HarborInstance.record`` (so only the versions
that record the event get it). Pushes and deletes are ``routes.artifacts.push_artifact`` /
``delete_artifact_by_ref``. Used by the living demo (fleet/demo.py) and tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harborops.harbor_sim.http import HarborError
from harborops.harbor_sim.state import Artifact

if TYPE_CHECKING:
    from harborops.harbor_sim.instance import HarborInstance


def pull(inst: HarborInstance, repo_name: str, ref: str, *, who: str) -> Artifact:
    """``docker pull repo:ref`` (ref a tag or a digest).

    - pull time moves forward only and the repository counts one more pull:
      src/controller/event/handler/internal/artifact.go@v2.13.0 ArtifactEventHandler.onPull,
      src/pkg/artifact/dao/dao.go@v2.13.0 UpdatePullTime;
    - the audit row: src/controller/event/topic.go@v2.13.0 PullArtifactEvent.ResolveToAuditLog —
      operation ``pull``, resource ``repo:tag`` (``repo@digest`` when pulled by digest), op_desc
      ``pull artifact: repo@digest``, operator ``anonymous`` for an anonymous pull of a public project.
    """
    with inst.lock:
        repo = next((r for r in inst.store.repositories.values() if r.name == repo_name), None)
        art = None if repo is None else next(
            (a for a in repo.artifacts.values() if a.digest == ref or any(t.name == ref for t in a.tags)), None)
        if repo is None or art is None:
            raise HarborError(404, f"artifact {repo_name}:{ref} not found")
        now = inst.clock.now()
        if art.pull_time is None or art.pull_time < now:
            art.pull_time = now
        repo.pull_count += 1
        resource = f"{repo_name}@{art.digest}" if ref == art.digest else f"{repo_name}:{ref}"
        inst.record(who or "anonymous", "pull", "artifact", resource, project=repo_name.split("/")[0],
                    description=f"pull artifact: {repo_name}@{art.digest}")
        return art


def log_in(inst: HarborInstance, username: str, *, ok: bool = True) -> None:
    """A portal login (``POST /c/login``): src/pkg/auditext/event/login/login.go@v2.13.0 loginResolver —
    operator and resource are the principal, resource type ``user``, operation and op_desc ``login``,
    successful when the answer was <= 307. Harbor records it from 2.13 (audit_log_ext event type
    ``login_user``); older versions write nothing, and ``record`` drops it there."""
    with inst.lock:
        inst.record(username, "login", "user", username, description="login", result=ok)
