"""Team mappings (LDAP group → Harbor project role on target instances), what harborops created on
each Harbor, drift findings, and the LDAP identity of users who log in through the directory."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import User
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from harborops.fleet.models import Instance

__all__ = ("DriftCheck", "DriftFinding", "LdapAccount", "ManagedMembership", "TeamMapping")

# Harbor's project name rule (lower case, digits, ._-; starts with a letter or digit).
project_name_validator = RegexValidator(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$",
                                        "lower-case letters, digits and . _ - (not at the start or end)")


class TeamMapping(models.Model):
    """One LDAP group gets one role in one Harbor project on a set of instances."""

    class Role(models.TextChoices):
        # Values are Harbor's role names (harbor.capabilities.ROLE_IDS maps them to role ids).
        PROJECT_ADMIN = "projectAdmin", _("Project admin")
        MAINTAINER = "maintainer", _("Maintainer")
        DEVELOPER = "developer", _("Developer")
        GUEST = "guest", _("Guest")
        LIMITED_GUEST = "limitedGuest", _("Limited guest")

    class Targets(models.TextChoices):
        ALL = "all", _("All instances")
        LABEL = "label", _("Instances with a label")
        LISTED = "listed", _("Listed instances")

    ldap_group_dn = models.CharField(max_length=500, help_text="Found by the LDAP search; stored as a DN")
    ldap_group_name = models.CharField(max_length=200, blank=True)
    project_name = models.CharField(max_length=255, validators=[project_name_validator])
    project_public = models.BooleanField(default=False, help_text="Only used when harborops creates the project")
    project_quota_gib = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text="Storage quota in GiB for a created project; "
                                                              "blank = unlimited")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DEVELOPER)
    targets = models.CharField(max_length=8, choices=Targets.choices, default=Targets.ALL)
    target_label = models.CharField(max_length=200, blank=True, help_text="key=value, for 'with a label'")
    instances = models.ManyToManyField(Instance, blank=True, related_name="team_mappings")
    authoritative = models.BooleanField(
        default=False, help_text="Also remove members of this project that no mapping asks for")
    expand_nested = models.BooleanField(
        default=False, help_text="Add the group's nested members as direct user members (imported from LDAP)")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[TeamMapping]] = models.Manager()

    class Meta:
        ordering = ("project_name", "ldap_group_dn")
        constraints = (models.UniqueConstraint(
            fields=("ldap_group_dn", "project_name"), name="access_mapping_group_project",
            violation_error_message="this LDAP group already has a mapping for this project"),)

    def __str__(self) -> str:
        return f"{self.group_label} → {self.project_name} ({self.role})"

    @property
    def group_label(self) -> str:
        return self.ldap_group_name or self.ldap_group_dn

    def targets_label(self) -> str:
        if self.targets == self.Targets.LABEL:
            return f"label {self.target_label}"
        if self.targets == self.Targets.LISTED:
            return ", ".join(i.name for i in self.instances.all()) or "no instance"
        return "all instances"

    def snapshot(self) -> dict[str, object]:
        """What the action log records (no secrets in a mapping)."""
        return {"ldap_group_dn": self.ldap_group_dn, "project_name": self.project_name, "role": self.role,
                "project_public": self.project_public, "project_quota_gib": self.project_quota_gib,
                "targets": self.targets, "target_label": self.target_label,
                "instances": sorted(i.name for i in self.instances.all()) if self.pk else [],
                "authoritative": self.authoritative, "expand_nested": self.expand_nested}


class ManagedMembership(models.Model):
    """A project membership harborops created on a Harbor. Only these are removed when their mapping
    goes away (memberships made by hand in Harbor are left alone unless a mapping is authoritative)."""

    class Entity(models.TextChoices):
        GROUP = "g", _("LDAP group")
        USER = "u", _("User")

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="managed_memberships")
    mapping = models.ForeignKey(TeamMapping, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="memberships")
    project_name = models.CharField(max_length=255)
    entity_type = models.CharField(max_length=1, choices=Entity.choices)
    entity = models.CharField(max_length=500, help_text="group DN (lower case) or user name")
    role_id = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    instance_id: int
    mapping_id: int | None
    objects: ClassVar[models.Manager[ManagedMembership]] = models.Manager()

    class Meta:
        ordering = ("instance", "project_name", "entity")
        constraints = (models.UniqueConstraint(fields=("instance", "project_name", "entity_type", "entity"),
                                               name="access_managed_unique"),)

    def __str__(self) -> str:
        return f"{self.entity} in {self.project_name} on instance {self.instance_id}"


class DriftFinding(models.Model):
    """What the last drift check found on one instance (replaced on every check)."""

    class Kind(models.TextChoices):
        MISSING_PROJECT = "missing_project", _("Project missing")
        MISSING = "missing", _("Member missing")
        WRONG_ROLE = "wrong_role", _("Wrong role")
        EXTRA = "extra", _("Extra member (authoritative project)")
        STALE = "stale", _("Left over from a removed mapping")
        NOT_LDAP = "not_ldap", _("Instance not in LDAP mode")
        NEEDS_SYSADMIN = "needs_sysadmin", _("Needs sysadmin credentials")
        ERROR = "error", _("Could not check")

    KIND_COLORS = {Kind.MISSING_PROJECT: "warning", Kind.MISSING: "warning", Kind.WRONG_ROLE: "warning",
                   Kind.EXTRA: "failed", Kind.STALE: "warning", Kind.NOT_LDAP: "unknown",
                   Kind.NEEDS_SYSADMIN: "unknown", Kind.ERROR: "failed"}

    checked_at = models.DateTimeField(db_index=True)
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="drift_findings")
    mapping = models.ForeignKey(TeamMapping, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="drift_findings")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    project_name = models.CharField(max_length=255, blank=True)
    entity = models.CharField(max_length=500, blank=True)
    detail = models.TextField(blank=True)

    instance_id: int
    mapping_id: int | None
    objects: ClassVar[models.Manager[DriftFinding]] = models.Manager()

    class Meta:
        ordering = ("instance__name", "project_name", "entity")

    def __str__(self) -> str:
        return f"{self.kind}: {self.project_name} {self.entity}"

    @property
    def color(self) -> str:
        return self.KIND_COLORS.get(self.Kind(self.kind), "unknown")


class DriftCheck(models.Model):
    """One drift check over the fleet (scheduled or on demand): when, and how much it found."""

    checked_at = models.DateTimeField(db_index=True)
    instances = models.PositiveIntegerField(default=0)
    findings = models.PositiveIntegerField(default=0)

    objects: ClassVar[models.Manager[DriftCheck]] = models.Manager()

    class Meta:
        ordering = ("-checked_at",)

    def __str__(self) -> str:
        return f"drift check at {self.checked_at:%Y-%m-%d %H:%M}: {self.findings} findings"


class LdapAccount(models.Model):
    """A harborops user who logs in through LDAP: their DN, groups and the role the directory gave."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="ldap_account")
    dn = models.CharField(max_length=500)
    ldap_role = models.CharField(max_length=16, blank=True)
    groups = models.JSONField(default=list, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[LdapAccount]] = models.Manager()

    def __str__(self) -> str:
        return self.dn
