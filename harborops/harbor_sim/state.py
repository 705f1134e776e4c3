"""The data one simulated Harbor holds: plain dataclasses in dicts keyed by id."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harborops.harbor_sim.http import HarborError, not_found

ROLE_NAMES = {1: "projectAdmin", 2: "developer", 3: "guest", 4: "maintainer", 5: "limitedGuest"}
GROUP_LDAP, GROUP_HTTP, GROUP_OIDC = 1, 2, 3


@dataclass(slots=True)
class User:
    user_id: int
    username: str
    password: str
    email: str = ""
    realname: str = ""
    comment: str = ""
    sysadmin_flag: bool = False
    creation_time: datetime | None = None
    update_time: datetime | None = None
    ldap_dn: str | None = None  # set for users on-boarded from LDAP


@dataclass(slots=True)
class UserGroup:
    id: int
    group_name: str
    group_type: int
    ldap_group_dn: str = ""


@dataclass(slots=True)
class Project:
    project_id: int
    name: str
    owner_id: int
    creation_time: datetime
    update_time: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    storage_limit: int = -1
    registry_id: int | None = None
    cve_allowlist: dict[str, Any] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.metadata.get("public") == "true"


@dataclass(slots=True)
class Member:
    id: int
    project_id: int
    role_id: int
    entity_type: str  # "u" | "g"
    entity_id: int


@dataclass(slots=True)
class Robot:
    id: int
    name: str  # full name incl. prefix, e.g. robot$ci
    secret: str
    level: str  # system | project
    description: str = ""
    duration: int = -1
    disable: bool = False
    expires_at: int = -1
    permissions: list[dict[str, Any]] = field(default_factory=list)
    creation_time: datetime | None = None
    update_time: datetime | None = None
    project_id: int = 0


@dataclass(slots=True)
class Registry:
    id: int
    name: str
    url: str
    type: str
    credential: dict[str, Any]
    insecure: bool
    description: str
    creation_time: datetime
    update_time: datetime
    ca_certificate: str = ""
    healthy: bool = True


@dataclass(slots=True)
class Tag:
    id: int
    name: str
    artifact_id: int
    repository_id: int
    push_time: datetime


@dataclass(slots=True)
class Artifact:
    id: int
    repository_id: int
    project_id: int
    digest: str
    size: int
    push_time: datetime
    tags: list[Tag] = field(default_factory=list)
    pull_time: datetime | None = None
    labels: list[str] = field(default_factory=list)  # label names (replication label filters)


@dataclass(slots=True)
class Repository:
    id: int
    project_id: int
    name: str  # "project/repo"
    creation_time: datetime
    update_time: datetime
    description: str = ""
    pull_count: int = 0
    artifacts: dict[int, Artifact] = field(default_factory=dict)


class Ids:
    """Per-table id sequences (like Postgres serials)."""

    def __init__(self) -> None:
        self._seqs: dict[str, itertools.count[int]] = {}

    def next(self, table: str) -> int:
        seq = self._seqs.get(table)
        if seq is None:
            seq = self._seqs[table] = itertools.count(1)
        return next(seq)


def digest_for(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


class Store:
    """All entities of one instance. Handlers look things up here and raise Harbor errors."""

    def __init__(self) -> None:
        self.ids = Ids()
        self.users: dict[int, User] = {}
        self.groups: dict[int, UserGroup] = {}
        self.projects: dict[int, Project] = {}
        self.members: dict[int, Member] = {}
        self.robots: dict[int, Robot] = {}
        self.registries: dict[int, Registry] = {}
        self.policies: dict[int, dict[str, Any]] = {}
        self.repositories: dict[int, Repository] = {}
        # Bytes of deleted artifacts still on disk until GC runs; counts of what GC would purge.
        self.garbage_bytes = 0
        self.garbage_manifests = 0
        self.garbage_blobs = 0

    # --- lookups -------------------------------------------------------------------------------
    def user_by_name(self, username: str) -> User | None:
        for u in self.users.values():
            if u.username == username:
                return u
        return None

    def project(self, name_or_id: str, *, is_name: bool = False) -> Project:
        if not is_name and name_or_id.isdigit():
            p = self.projects.get(int(name_or_id))
        else:
            p = next((x for x in self.projects.values() if x.name == name_or_id), None)
        if p is None:
            raise HarborError(404, f"project {name_or_id} not found")
        return p

    def project_by_name(self, name: str) -> Project | None:
        return next((x for x in self.projects.values() if x.name == name), None)

    def repository(self, project: Project, repo_name: str) -> Repository:
        full = f"{project.name}/{repo_name}"
        for r in self.repositories.values():
            if r.name == full:
                return r
        raise not_found(f"repository {full} not found")

    def project_repos(self, project_id: int) -> list[Repository]:
        return [r for r in self.repositories.values() if r.project_id == project_id]

    def project_usage(self, project_id: int) -> int:
        return sum(a.size for r in self.project_repos(project_id) for a in r.artifacts.values())

    def live_bytes(self) -> int:
        return sum(a.size for r in self.repositories.values() for a in r.artifacts.values())
