"""Typed results of the Harbor client (pydantic v2, tolerant of unknown and missing fields).

Field names are Harbor's JSON names. Every field has a default: Harbor omits empty values
(``omitempty``) and fields come and go between versions. Secrets use ``SecretStr`` and the
GC/purge ``job_parameters`` JSON string is parsed with secret keys (``redis_url_reg``) dropped,
so no repr or log line can leak them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from harborops.harbor.errors import SECRET_KEYS


class HarborModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ComponentHealth(HarborModel):
    name: str = ""
    status: str = ""
    error: str | None = None


class Health(HarborModel):
    status: str = ""
    components: list[ComponentHealth] = Field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.status == "healthy"


class SystemInfo(HarborModel):
    """``GeneralInfo``; version and URLs only when authenticated."""

    harbor_version: str | None = None
    auth_mode: str | None = None
    primary_auth_mode: bool | None = None
    external_url: str | None = None
    registry_url: str | None = None
    has_ca_root: bool | None = None
    project_creation_restriction: str | None = None
    read_only: bool | None = None
    self_registration: bool | None = None
    registry_storage_provider_name: str | None = None
    notification_enable: bool | None = None
    banner_message: str | None = None
    current_time: dt.datetime | None = None


class Storage(HarborModel):
    total: int = 0
    free: int = 0


class Volumes(HarborModel):
    storage: list[Storage] = Field(default_factory=list)


class Statistic(HarborModel):
    private_project_count: int = 0
    private_repo_count: int = 0
    public_project_count: int = 0
    public_repo_count: int = 0
    total_project_count: int = 0
    total_repo_count: int = 0
    total_storage_consumption: int = 0


class Project(HarborModel):
    project_id: int = 0
    name: str = ""
    owner_id: int | None = None
    owner_name: str | None = None
    registry_id: int | None = None
    repo_count: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)
    current_user_role_ids: list[int] | None = None
    creation_time: dt.datetime | None = None
    update_time: dt.datetime | None = None


class QuotaUsage(HarborModel):
    hard: dict[str, int] = Field(default_factory=dict)
    used: dict[str, int] = Field(default_factory=dict)


class ProjectSummary(HarborModel):
    repo_count: int = 0
    project_admin_count: int = 0
    maintainer_count: int = 0
    developer_count: int = 0
    guest_count: int = 0
    limited_guest_count: int = 0
    quota: QuotaUsage | None = None


class Member(HarborModel):
    """``ProjectMemberEntity``: entity_type ``u`` (user) or ``g`` (group)."""

    id: int = 0
    project_id: int = 0
    entity_name: str = ""
    entity_type: str = ""
    entity_id: int = 0
    role_id: int = 0
    role_name: str = ""


class UserGroup(HarborModel):
    id: int = 0
    group_name: str = ""
    group_type: int = 0
    ldap_group_dn: str = ""


class LdapPingResult(HarborModel):
    success: bool = False
    message: str = ""


class LdapUser(HarborModel):
    username: str = ""
    realname: str = ""
    email: str = ""


class LdapFailedImport(HarborModel):
    uid: str = ""
    error: str = ""


class User(HarborModel):
    user_id: int = 0
    username: str = ""
    email: str = ""
    realname: str = ""
    comment: str = ""
    sysadmin_flag: bool = False
    admin_role_in_auth: bool = False


class UserSearchItem(HarborModel):
    user_id: int = 0
    username: str = ""


class ConfigItem(HarborModel):
    value: Any = None
    editable: bool = True


class Access(HarborModel):
    resource: str = ""
    action: str = ""
    effect: str | None = None


class RobotPermission(HarborModel):
    kind: str = "system"
    namespace: str = "/"
    access: list[Access] = Field(default_factory=list)


class Robot(HarborModel):
    id: int = 0
    name: str = ""
    description: str = ""
    level: str = ""
    duration: int | None = None
    disable: bool = False
    editable: bool = True
    expires_at: int | None = None
    permissions: list[RobotPermission] = Field(default_factory=list)
    secret: SecretStr | None = None
    creation_time: dt.datetime | None = None


class RobotCreated(HarborModel):
    id: int = 0
    name: str = ""
    secret: SecretStr = SecretStr("")
    expires_at: int | None = None
    creation_time: dt.datetime | None = None


class Credential(HarborModel):
    type: str = ""
    access_key: str = ""
    access_secret: SecretStr | None = None


class Registry(HarborModel):
    id: int = 0
    name: str = ""
    url: str = ""
    type: str = ""
    insecure: bool = False
    status: str = ""
    description: str = ""
    credential: Credential | None = None


class ReplicationTrigger(HarborModel):
    type: str = "manual"
    trigger_settings: dict[str, Any] | None = None


class ReplicationPolicy(HarborModel):
    id: int = 0
    name: str = ""
    description: str = ""
    src_registry: Registry | None = None
    dest_registry: Registry | None = None
    dest_namespace: str = ""
    dest_namespace_replace_count: int | None = None
    trigger: ReplicationTrigger | None = None
    filters: list[dict[str, Any]] | None = None
    replicate_deletion: bool = False
    override: bool = False
    enabled: bool = False
    speed: int | None = None
    copy_by_chunk: bool | None = None
    single_active_replication: bool | None = None


def _zero_time_is_none(v: Any) -> Any:
    """Harbor answers Go's zero time (``0001-01-01T00:00:00.000Z``) for a time that has not happened
    yet: replication executions/tasks always carry ``end_time`` (handler/replication.go convertExecution,
    convertTask), and a Pending task's ``start_time`` too. Read it as "not yet"."""
    if isinstance(v, str) and v.startswith("0001-01-01"):
        return None
    if isinstance(v, dt.datetime) and v.year == 1:
        return None
    return v


class ReplicationExecution(HarborModel):
    id: int = 0
    policy_id: int = 0
    status: str = ""
    status_text: str = ""
    trigger: str = ""
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total: int = 0
    failed: int = 0
    succeed: int = 0
    in_progress: int = 0
    stopped: int = 0

    _zero_times = field_validator("start_time", "end_time", mode="before")(_zero_time_is_none)


class ReplicationTask(HarborModel):
    id: int = 0
    execution_id: int = 0
    status: str = ""
    job_id: str = ""
    operation: str = ""
    resource_type: str = ""
    src_resource: str = ""
    dst_resource: str = ""
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None

    _zero_times = field_validator("start_time", "end_time", mode="before")(_zero_time_is_none)


class AuditLog(HarborModel):
    """Row of ``/audit-logs`` (legacy) or ``/auditlog-exts`` (v2.13+)."""

    id: int = 0
    username: str = ""
    resource: str = ""
    resource_type: str = ""
    operation: str = ""
    operation_description: str | None = None
    operation_result: bool | None = None
    op_time: dt.datetime | None = None


class ScheduleObj(HarborModel):
    type: str | None = None
    cron: str | None = None
    next_scheduled_time: dt.datetime | None = None


class ExecHistory(HarborModel):
    """``GCHistory`` / ``ExecHistory``: GC and purge-audit runs and schedules."""

    id: int = 0
    job_name: str = ""
    job_kind: str = ""
    job_status: str = ""
    job_parameters: dict[str, Any] = Field(default_factory=dict)
    schedule: ScheduleObj | None = None
    deleted: bool = False
    creation_time: dt.datetime | None = None
    update_time: dt.datetime | None = None

    @field_validator("job_parameters", mode="before")
    @classmethod
    def _parse_params(cls, value: Any) -> dict[str, Any]:
        # A JSON *string* in Harbor; before v2.15.1 it carries redis_url_reg with the Redis password.
        if value in (None, ""):
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return {}
        if not isinstance(value, dict):
            return {}
        return {k: v for k, v in value.items() if k not in SECRET_KEYS}


class JobQueue(HarborModel):
    job_type: str = ""
    count: int = 0
    latency: int = 0
    paused: bool = False


class QuotaRef(HarborModel):
    id: int | None = None
    name: str | None = None
    owner_name: str | None = None


class Quota(HarborModel):
    id: int = 0
    ref: QuotaRef | None = None
    hard: dict[str, int] = Field(default_factory=dict)
    used: dict[str, int] = Field(default_factory=dict)


class Repository(HarborModel):
    id: int = 0
    project_id: int = 0
    name: str = ""
    description: str = ""
    artifact_count: int = 0
    pull_count: int = 0
    creation_time: dt.datetime | None = None
    update_time: dt.datetime | None = None


class Tag(HarborModel):
    id: int = 0
    name: str = ""


class Artifact(HarborModel):
    id: int = 0
    digest: str = ""
    type: str = ""
    size: int = 0
    repository_id: int = 0
    project_id: int = 0
    tags: list[Tag] | None = None
    push_time: dt.datetime | None = None
    pull_time: dt.datetime | None = None
