"""Repositories and artifacts."""

from __future__ import annotations

from harborops.harbor import types as t
from harborops.harbor.ops import EndpointBase, Op, Req, endpoint, opt, paged_models, q_params, seg, seg2


def _repo_name(project: str, repository: str) -> str:
    """Repository name without the project prefix (Harbor lists ``proj/repo``)."""
    prefix = project + "/"
    return repository[len(prefix) :] if repository.startswith(prefix) else repository


class ArtifactEndpoints(EndpointBase):
    @endpoint
    def list_repositories(
        self, project: str | None = None, *, q: str | None = None, sort: str | None = None
    ) -> Op[list[t.Repository]]:
        """One project's repositories, or all (``GET /repositories``)."""
        path = f"/projects/{seg(project)}/repositories" if project else "/repositories"
        return (yield from paged_models(t.Repository, Req("GET", path, q_params(q, sort))))

    @endpoint
    def delete_repository(self, project: str, repository: str) -> Op[None]:
        """DELETE; the name is double-encoded (a/b → a%252Fb)."""
        yield Req("DELETE", f"/projects/{seg(project)}/repositories/{seg2(_repo_name(project, repository))}")
        return None

    @endpoint
    def list_artifacts(
        self,
        project: str,
        repository: str,
        *,
        q: str | None = None,
        with_tag: bool | None = None,
        limit: int | None = None,
    ) -> Op[list[t.Artifact]]:
        path = f"/projects/{seg(project)}/repositories/{seg2(_repo_name(project, repository))}/artifacts"
        req = Req("GET", path, q_params(q, None) + opt(with_tag=with_tag))
        return (yield from paged_models(t.Artifact, req, limit=limit))

    @endpoint
    def delete_artifact(self, project: str, repository: str, reference: str) -> Op[None]:
        """Delete by digest or tag (only marks; space comes back with GC)."""
        path = (
            f"/projects/{seg(project)}/repositories/{seg2(_repo_name(project, repository))}/artifacts/{seg(reference)}"
        )
        yield Req("DELETE", path)
        return None

    @endpoint
    def delete_tag(self, project: str, repository: str, reference: str, tag: str) -> Op[None]:
        """Remove one tag (the artifact stays; untagged, GC with delete_untagged takes it)."""
        path = (
            f"/projects/{seg(project)}/repositories/{seg2(_repo_name(project, repository))}/artifacts/"
            f"{seg(reference)}/tags/{seg(tag)}"
        )
        yield Req("DELETE", path)
        return None
