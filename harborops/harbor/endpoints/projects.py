"""Projects, members, quotas."""

from __future__ import annotations

from collections.abc import Mapping

from harborops.harbor import types as t
from harborops.harbor.capabilities import ROLE_IDS, ROLE_NAMES
from harborops.harbor.ops import (
    EndpointBase,
    Op,
    Req,
    endpoint,
    location_id,
    opt,
    paged_models,
    parse_model,
    project_ref,
    q_params,
)
from harborops.harbor.query import build_sort


def role_id(role: int | str) -> int:
    """Role id from an id or Harbor's role name (``projectAdmin`` … ``limitedGuest``)."""
    if isinstance(role, int):
        if role not in ROLE_NAMES:
            raise ValueError(f"unknown role id {role} (valid: {sorted(ROLE_NAMES)})")
        return role
    if role not in ROLE_IDS:
        raise ValueError(f"unknown role {role!r} (valid: {', '.join(ROLE_IDS)})")
    return ROLE_IDS[role]


class ProjectEndpoints(EndpointBase):
    @endpoint
    def list_projects(
        self,
        *,
        name: str | None = None,
        public: bool | None = None,
        q: str | None = None,
        sort: str | None = None,
        with_detail: bool | None = None,
    ) -> Op[list[t.Project]]:
        """All projects (every page). ``q`` from :func:`harborops.harbor.query.build_q` ("project")."""
        if sort:
            build_sort("project", *sort.split(","))
        params = opt(name=name, public=public, with_detail=with_detail) + q_params(q, sort)
        return (yield from paged_models(t.Project, Req("GET", "/projects", params)))

    @endpoint
    def get_project(self, project: str | int) -> Op[t.Project]:
        ref, headers = project_ref(project)
        resp = yield Req("GET", f"/projects/{ref}", headers=headers)
        return parse_model(t.Project, resp.json(), resp)

    @endpoint
    def project_exists(self, name: str) -> Op[bool]:
        """HEAD /projects?project_name=… → 200 exists / 404 not."""
        resp = yield Req("HEAD", "/projects", [("project_name", name)], accept=frozenset({404}))
        return resp.status == 200

    @endpoint
    def create_project(
        self,
        name: str,
        *,
        public: bool = False,
        storage_limit: int | None = None,
        metadata: Mapping[str, str] | None = None,
        registry_id: int | None = None,
    ) -> Op[int]:
        """POST /projects → new project id (from Location)."""
        meta = {"public": "true" if public else "false", **(metadata or {})}
        body: dict[str, object] = {"project_name": name, "metadata": meta}
        if storage_limit is not None:
            body["storage_limit"] = storage_limit
        if registry_id is not None:
            body["registry_id"] = registry_id
        resp = yield Req("POST", "/projects", json=body)
        return location_id(resp)

    @endpoint
    def delete_project(self, project: str | int) -> Op[None]:
        """DELETE; 412 (ValidationFailed) while the project still holds repositories."""
        ref, headers = project_ref(project)
        yield Req("DELETE", f"/projects/{ref}", headers=headers)
        return None

    @endpoint
    def project_summary(self, project: str | int) -> Op[t.ProjectSummary]:
        ref, headers = project_ref(project)
        resp = yield Req("GET", f"/projects/{ref}/summary", headers=headers)
        return parse_model(t.ProjectSummary, resp.json(), resp)

    # -- members ---------------------------------------------------------------------------
    @endpoint
    def list_members(self, project: str | int, *, entityname: str | None = None) -> Op[list[t.Member]]:
        """All members (default page size is 10, so every page is fetched)."""
        ref, headers = project_ref(project)
        req = Req("GET", f"/projects/{ref}/members", opt(entityname=entityname), headers=headers)
        return (yield from paged_models(t.Member, req))

    @endpoint
    def add_member(
        self,
        project: str | int,
        role: int | str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        group_id: int | None = None,
        ldap_group_dn: str | None = None,
        group_name: str | None = None,
        group_type: int | None = None,
    ) -> Op[int]:
        """Add a user or a group; an LDAP group by DN is on-boarded by Harbor. → member id.

        Exactly one of user_id / username / group_id / ldap_group_dn / group_name.
        """
        chosen = [x for x in (user_id, username, group_id, ldap_group_dn, group_name) if x is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of user_id, username, group_id, ldap_group_dn, group_name")
        body: dict[str, object] = {"role_id": role_id(role)}
        if user_id is not None:
            body["member_user"] = {"user_id": user_id}
        elif username is not None:
            body["member_user"] = {"username": username}
        else:
            group: dict[str, object] = {}
            if group_id is not None:
                group["id"] = group_id
            if ldap_group_dn is not None:
                group["ldap_group_dn"] = ldap_group_dn
            if group_name is not None:
                group["group_name"] = group_name
            if group_type is not None:
                group["group_type"] = group_type
            body["member_group"] = group
        ref, headers = project_ref(project)
        resp = yield Req("POST", f"/projects/{ref}/members", json=body, headers=headers)
        return location_id(resp)

    @endpoint
    def update_member_role(self, project: str | int, member_id: int, role: int | str) -> Op[None]:
        ref, headers = project_ref(project)
        yield Req(
            "PUT",
            f"/projects/{ref}/members/{int(member_id)}",
            json={"role_id": role_id(role)},
            headers=headers,
        )
        return None

    @endpoint
    def remove_member(self, project: str | int, member_id: int) -> Op[None]:
        ref, headers = project_ref(project)
        yield Req("DELETE", f"/projects/{ref}/members/{int(member_id)}", headers=headers)
        return None

    # -- quotas ----------------------------------------------------------------------------
    @endpoint
    def list_quotas(
        self,
        *,
        reference: str | None = "project",
        reference_id: int | None = None,
        sort: str | None = None,
    ) -> Op[list[t.Quota]]:
        if sort:
            build_sort("quota", *sort.split(","))
        params = opt(reference=reference, reference_id=reference_id) + q_params(None, sort)
        return (yield from paged_models(t.Quota, Req("GET", "/quotas", params)))

    @endpoint
    def get_quota(self, quota_id: int) -> Op[t.Quota]:
        resp = yield Req("GET", f"/quotas/{int(quota_id)}")
        return parse_model(t.Quota, resp.json(), resp)

    @endpoint
    def set_quota(self, quota_id: int, storage_bytes: int) -> Op[None]:
        """PUT /quotas/{id} {"hard": {"storage": bytes | -1}}."""
        yield Req("PUT", f"/quotas/{int(quota_id)}", json={"hard": {"storage": int(storage_bytes)}})
        return None


__all__ = ("ProjectEndpoints", "role_id")
