"""Endpoint definitions, one mixin per area; each method is an ``Op`` generator (see ops.py)."""

from __future__ import annotations

from harborops.harbor.endpoints.access import AccessEndpoints
from harborops.harbor.endpoints.artifacts import ArtifactEndpoints
from harborops.harbor.endpoints.audit import AuditEndpoints
from harborops.harbor.endpoints.maintenance import MaintenanceEndpoints
from harborops.harbor.endpoints.projects import ProjectEndpoints
from harborops.harbor.endpoints.replication import ReplicationEndpoints
from harborops.harbor.endpoints.system import SystemEndpoints

__all__ = (
    "AccessEndpoints",
    "ArtifactEndpoints",
    "AuditEndpoints",
    "MaintenanceEndpoints",
    "ProjectEndpoints",
    "ReplicationEndpoints",
    "SystemEndpoints",
)
