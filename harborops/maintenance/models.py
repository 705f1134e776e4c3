"""Garbage collection across the fleet: policies, per-instance steps of a run, and what each
instance's own GC schedule and history looked like at the last check."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.timezone import localtime, now

from harborops.fleet.models import Instance


class OfflineTarget(models.Model):
    """A registry GC'd offline over SSH: stop it, ``registry garbage-collect``, start it, verify.

    For registry-only hosts and Harbors too old for GC through the API. Commands are argument
    lists (stored as shell-like text, split once on save and quoted by the SSH layer when run),
    never shell strings.
    """

    class StopMode(models.TextChoices):
        COMPOSE = "compose", "docker compose (stop / start in a directory)"
        SYSTEMD = "systemd", "systemd unit"
        COMMAND = "command", "commands"

    name = models.CharField(max_length=100, unique=True)
    host = models.ForeignKey("ssh.SSHHost", on_delete=models.PROTECT, related_name="gc_targets")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="offline_gc_targets",
                                 help_text="the fleet instance this registry serves (HA rules apply)")
    stop_mode = models.CharField(max_length=8, choices=StopMode.choices, default=StopMode.COMPOSE)
    compose_dir = models.CharField(max_length=300, blank=True, help_text="directory of docker-compose.yml")
    compose_service = models.CharField(max_length=100, blank=True, default="registry",
                                       help_text="service to stop and start (blank = all)")
    systemd_unit = models.CharField(max_length=100, blank=True)
    stop_command = models.JSONField(default=list, blank=True)   # argv
    start_command = models.JSONField(default=list, blank=True)  # argv
    gc_command = models.JSONField(default=list, blank=True)     # argv before the flags and the config
    config_path = models.CharField(max_length=300, help_text="the registry's config.yml on the host")
    storage_dir = models.CharField(max_length=300, help_text="the storage root; du measures it before and after")
    registry_url = models.URLField(max_length=300, help_text="where the registry answers /v2/ (from harborops)")
    verify_refs = models.JSONField(default=list, blank=True, help_text="manifests that must pull after the restart")
    command_timeout = models.PositiveIntegerField(default=6 * 3600, help_text="seconds garbage-collect may run")
    notes = models.TextField(blank=True)

    objects: ClassVar[models.Manager[OfflineTarget]] = models.Manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("maintenance:offline_detail", args=[self.pk])


class GCPolicy(models.Model):
    """Which instances get GC, when (a cron in django-celery-beat), inside which maintenance window,
    how many at once, and with which options. HA group members never run at the same time."""

    class Targets(models.TextChoices):
        ALL = "all", "All instances"
        LABEL = "label", "Instances with a label"
        LISTED = "listed", "Listed instances"

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True, help_text="a disabled policy keeps its cron but never runs")
    targets = models.CharField(max_length=8, choices=Targets.choices, default=Targets.ALL)
    target_label = models.CharField(max_length=200, blank=True, help_text="key=value, for 'with a label'")
    instances = models.ManyToManyField(Instance, blank=True, related_name="gc_policies")
    offline_targets = models.ManyToManyField(OfflineTarget, blank=True, related_name="policies",
                                             help_text="registries collected offline over SSH")
    cron = models.CharField(max_length=100, blank=True,
                            help_text="when harborops runs it: m h dom mon dow (blank = only on demand)")
    window_start = models.TimeField(null=True, blank=True,
                                    help_text="maintenance window opens (server time); blank = when the run starts")
    window_minutes = models.PositiveIntegerField(default=240, help_text="maximum duration of the window")
    concurrency = models.PositiveIntegerField(default=1, help_text="instances collecting at the same time")
    delete_untagged = models.BooleanField(default=False)
    dry_run_first = models.BooleanField(default=True, help_text="a dry run on each instance before the real run")
    workers = models.PositiveSmallIntegerField(null=True, blank=True,
                                               help_text="GC workers where the version has them (2.9+: 1-5, "
                                                         "2.13+: 1-10); blank = Harbor's default")
    harbor_cron = models.CharField(max_length=100, blank=True,
                                   help_text="Harbor's own schedule to set on each instance (6 fields, seconds "
                                             "first, e.g. '0 0 3 * * 6'); blank = not managed")
    notes = models.TextField(blank=True)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[GCPolicy]] = models.Manager()

    class Meta:
        ordering = ("name",)
        verbose_name = "GC policy"
        verbose_name_plural = "GC policies"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("maintenance:policy_detail", args=[self.pk])

    def targets_label(self) -> str:
        if self.targets == self.Targets.LABEL:
            return f"label {self.target_label}"
        if self.targets == self.Targets.LISTED:
            return ", ".join(i.name for i in self.instances.all()) or "no instance"
        return "all instances"

    def window_label(self) -> str:
        start = self.window_start.strftime("%H:%M") if self.window_start else "run start"
        return f"{start} + {self.window_minutes} min"

    def window_deadline(self, started: dt.datetime, *, scheduled: bool) -> dt.datetime | None:
        """When a run that started at ``started`` must be finished; None when a scheduled run
        starts outside its window (it must not start at all). A run started by hand outside the
        window gets the window's length from its start."""
        length = dt.timedelta(minutes=self.window_minutes)
        if self.window_start is None:
            return started + length
        local = localtime(started)
        for days_back in (0, 1):  # a window opening at 23:00 may still be open after midnight
            day = local.date() - dt.timedelta(days=days_back)
            opened = dt.datetime.combine(day, self.window_start, tzinfo=local.tzinfo)
            if opened <= local < opened + length:
                return opened + length
        return None if scheduled else started + length

    def snapshot(self) -> dict[str, object]:
        """What the action log records."""
        return {"name": self.name, "enabled": self.enabled, "targets": self.targets,
                "target_label": self.target_label, "instances": sorted(self.instances.values_list("name", flat=True))
                if self.pk else [], "offline_targets": sorted(self.offline_targets.values_list("name", flat=True))
                if self.pk else [], "cron": self.cron,
                "window_start": self.window_start.strftime("%H:%M") if self.window_start else None,
                "window_minutes": self.window_minutes, "concurrency": self.concurrency,
                "delete_untagged": self.delete_untagged, "dry_run_first": self.dry_run_first,
                "workers": self.workers, "harbor_cron": self.harbor_cron}


class GCStep(models.Model):
    """One instance's part of a GC run (a JobRun): its own status, numbers and log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        OVERRUN = "overrun", "Window overrun"
        SKIPPED = "skipped", "Skipped"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.OVERRUN, Status.SKIPPED)
    STATUS_CSS: ClassVar[dict[str, str]] = {
        Status.PENDING: "pending", Status.RUNNING: "running", Status.SUCCEEDED: "succeeded",
        Status.FAILED: "failed", Status.OVERRUN: "failed", Status.SKIPPED: "cancelled",
    }

    job = models.ForeignKey("core.JobRun", on_delete=models.CASCADE, related_name="gc_steps")
    policy = models.ForeignKey(GCPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="gc_steps")
    offline_target = models.ForeignKey(OfflineTarget, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="steps")
    instance_name = models.CharField(max_length=100)
    ha_group_id = models.IntegerField(null=True, blank=True)  # the exclusion key: never two at once
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    phase = models.CharField(max_length=16, blank=True)  # "", dry-run, gc
    harbor_gc_id = models.BigIntegerField(null=True, blank=True)
    dry_run_gc_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    estimated_bytes = models.BigIntegerField(null=True, blank=True, help_text="the dry run's estimate")
    freed_bytes = models.BigIntegerField(null=True, blank=True)
    freed_source = models.CharField(max_length=32, blank=True)  # harbor result | gc log | volumes | du
    free_before = models.BigIntegerField(null=True, blank=True)
    free_after = models.BigIntegerField(null=True, blank=True)
    used_before = models.BigIntegerField(null=True, blank=True, help_text="offline: du of the storage before")
    used_after = models.BigIntegerField(null=True, blank=True)
    harbor_status = models.CharField(max_length=32, blank=True)
    state_left = models.CharField(max_length=200, blank=True, help_text="offline: the registry's state at the end")
    message = models.TextField(blank=True)
    log = models.TextField(blank=True)
    harbor_log = models.TextField(blank=True)

    objects: ClassVar[models.Manager[GCStep]] = models.Manager()

    class Meta:
        ordering = ("job", "position", "pk")
        indexes = (models.Index(fields=("instance", "status")),
                   # the watchdog's per-instance "last succeeded" and "newest finished" (one index probe each)
                   models.Index(fields=("instance", "status", "finished_at"), name="gcstep_instance_status_end"),
                   models.Index(fields=("instance", "id"), name="gcstep_instance_newest"))

    def __str__(self) -> str:
        return f"GC of {self.instance_name} in job {self.job_id}"

    @property
    def status_css(self) -> str:
        return self.STATUS_CSS.get(self.status, "pending")

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        return ((self.finished_at or now()) - self.started_at).total_seconds()

    def log_lines(self) -> list[str]:
        return self.log.splitlines()


class InstanceGC(models.Model):
    """An instance's own GC state as the last check read it: Harbor's schedule and newest runs."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="gc_state")
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True)
    schedule_type = models.CharField(max_length=16, blank=True)  # "" = no schedule
    schedule_cron = models.CharField(max_length=100, blank=True)
    schedule_params = models.JSONField(default=dict, blank=True)
    schedule_created = models.DateTimeField(null=True, blank=True, help_text="when Harbor's schedule was set")
    schedule_seen_at = models.DateTimeField(null=True, blank=True, help_text="last check that saw a schedule")
    schedule_lost_at = models.DateTimeField(null=True, blank=True, help_text="a schedule seen before is gone")
    last_run_id = models.BigIntegerField(null=True, blank=True)
    last_run_status = models.CharField(max_length=32, blank=True)
    last_run_trigger = models.CharField(max_length=16, blank=True)
    last_run_start = models.DateTimeField(null=True, blank=True)
    last_run_end = models.DateTimeField(null=True, blank=True)
    last_scheduled_start = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[InstanceGC]] = models.Manager()

    class Meta:
        ordering = ("instance__name",)

    def __str__(self) -> str:
        return f"GC state of {self.instance}"


# --- clean-up: what each instance holds that GC could reclaim, and deletions across instances -------
class CleanupScan(models.Model):
    """The last collection of an instance's projects, repositories, artifacts and quotas."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="cleanup_scan")
    scanned_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    projects = models.PositiveIntegerField(default=0)
    repositories = models.PositiveIntegerField(default=0)
    artifacts = models.PositiveIntegerField(default=0)

    objects: ClassVar[models.Manager[CleanupScan]] = models.Manager()

    def __str__(self) -> str:
        return f"clean-up scan of {self.instance}"


class ProjectUsage(models.Model):
    """One project of one instance at the last scan: its quota and its untagged artifacts."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="cleanup_projects")
    project_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    quota_hard = models.BigIntegerField(null=True, blank=True, help_text="bytes; -1 = unlimited")
    quota_used = models.BigIntegerField(null=True, blank=True)
    repositories = models.PositiveIntegerField(default=0)
    artifacts = models.PositiveIntegerField(default=0)
    untagged_count = models.PositiveIntegerField(default=0)
    untagged_bytes = models.BigIntegerField(default=0)
    collected_at = models.DateTimeField()

    objects: ClassVar[models.Manager[ProjectUsage]] = models.Manager()

    class Meta:
        ordering = ("instance__name", "name")
        constraints = (models.UniqueConstraint(fields=("instance", "name"), name="maintenance_project_usage_uniq"),)

    def __str__(self) -> str:
        return f"{self.name} on {self.instance}"

    @property
    def quota_share(self) -> float | None:
        """used / hard (0.93 = 93 %); None when the quota is unlimited or unknown."""
        if not self.quota_hard or self.quota_hard < 0 or self.quota_used is None:
            return None
        return self.quota_used / self.quota_hard


class RepositoryUsage(models.Model):
    """One repository of one instance at the last scan; ``last_pull`` None = never pulled."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="cleanup_repositories")
    project_name = models.CharField(max_length=255)
    name = models.CharField(max_length=512, help_text="project/repository")
    artifacts = models.PositiveIntegerField(default=0)
    untagged = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    pull_count = models.BigIntegerField(default=0)
    last_pull = models.DateTimeField(null=True, blank=True)
    last_push = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField()

    objects: ClassVar[models.Manager[RepositoryUsage]] = models.Manager()

    class Meta:
        ordering = ("instance__name", "name")
        constraints = (models.UniqueConstraint(fields=("instance", "name"), name="maintenance_repo_usage_uniq"),)

    def __str__(self) -> str:
        return f"{self.name} on {self.instance}"


class UntaggedArtifact(models.Model):
    """An artifact without a tag at the last scan (what GC with delete_untagged would remove)."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="untagged_artifacts")
    project_name = models.CharField(max_length=255)
    repository = models.CharField(max_length=512, help_text="project/repository")
    digest = models.CharField(max_length=100)
    size = models.BigIntegerField(default=0)
    push_time = models.DateTimeField(null=True, blank=True)
    pull_time = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField()

    objects: ClassVar[models.Manager[UntaggedArtifact]] = models.Manager()

    class Meta:
        ordering = ("instance__name", "repository", "-size", "digest")
        constraints = (models.UniqueConstraint(fields=("instance", "repository", "digest"),
                                               name="maintenance_untagged_uniq"),)

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest} on {self.instance}"


class CleanupPlan(models.Model):
    """Deletions across instances: checked by a dry run first, then confirmed and carried out by a job."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Dry run"
        CHECKED = "checked", "Waiting for confirmation"
        DELETING = "deleting", "Deleting"
        DONE = "done", "Done"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dry_run_job = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delete_job = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_by = models.CharField(max_length=150, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[CleanupPlan]] = models.Manager()

    class Meta:
        ordering = ("-pk",)

    def __str__(self) -> str:
        return f"clean-up {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("maintenance:cleanup_plan", args=[self.pk])


class CleanupItem(models.Model):
    """One thing to delete on one instance: an artifact (by digest), a tag, or a whole repository."""

    class Kind(models.TextChoices):
        ARTIFACT = "artifact", "Artifact"
        TAG = "tag", "Tag"
        REPOSITORY = "repository", "Repository"

    class Check(models.TextChoices):
        PENDING = "", "Not checked"
        PRESENT = "present", "Will be deleted"
        GONE = "gone", "Not there (nothing to do)"
        ERROR = "error", "Could not check"

    class Result(models.TextChoices):
        NONE = "", "—"
        DELETED = "deleted", "Deleted"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    plan = models.ForeignKey(CleanupPlan, on_delete=models.CASCADE, related_name="items")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    instance_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    repository = models.CharField(max_length=512, help_text="project/repository")
    reference = models.CharField(max_length=200, blank=True, help_text="digest (artifact) or tag name (tag)")
    size = models.BigIntegerField(null=True, blank=True)
    check_state = models.CharField(max_length=8, choices=Check.choices, default=Check.PENDING, blank=True)
    check_message = models.TextField(blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.NONE, blank=True)
    result_message = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[CleanupItem]] = models.Manager()

    class Meta:
        ordering = ("plan", "instance_name", "repository", "kind", "reference")

    def __str__(self) -> str:
        return f"{self.kind} {self.label} on {self.instance_name}"

    @property
    def project(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def label(self) -> str:
        if self.kind == self.Kind.ARTIFACT:
            return f"{self.repository}@{self.reference}"
        if self.kind == self.Kind.TAG:
            return f"{self.repository}:{self.reference}"
        return self.repository
