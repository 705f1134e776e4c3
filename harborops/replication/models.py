"""What the collector learned from each instance: registry endpoints, replication policies, their
executions and the tasks of failed ones (logs are fetched from Harbor on demand, never stored), and
each policy's health roll-up (written by the collector so the fleet page and /metrics filter in SQL)."""

from __future__ import annotations

from datetime import datetime

from django.db import models

from harborops.core.fields import EncryptedTextField
from harborops.fleet.models import HAGroup, Instance


class CollectState(models.Model):
    """The last collection of one instance (one row per instance)."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="replication_state")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    executions_read = models.PositiveIntegerField(default=0)  # in the last run (incremental reads)

    def __str__(self) -> str:
        return f"replication state of {self.instance}"


class Registry(models.Model):
    """A registry endpoint on an instance, with the live ping of the last collection."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="replication_registries")
    harbor_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    url = models.CharField(max_length=1000)
    type = models.CharField(max_length=50)
    harbor_status = models.CharField(max_length=50, blank=True)  # Harbor's own status field
    reachable = models.BooleanField(null=True)  # POST /registries/ping at the last collection
    ping_error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("instance__name", "name")
        constraints = [models.UniqueConstraint(fields=["instance", "harbor_id"], name="replication_registry_uniq")]

    def __str__(self) -> str:
        return f"{self.instance.name}: {self.name}"


class Policy(models.Model):
    class Health(models.TextChoices):
        STUCK = "stuck", "Stuck"
        FAILING = "failing", "Failing"
        LAGGING = "lagging", "Lagging"
        HEALTHY = "healthy", "Healthy"
        NEVER_RUN = "never_run", "Never run"
        DISABLED = "disabled", "Disabled"

    HEALTH_COLORS = {Health.STUCK: "failure", Health.FAILING: "failure", Health.LAGGING: "warning",
                     Health.HEALTHY: "success", Health.NEVER_RUN: "unknown", Health.DISABLED: "unknown"}
    # numeric form of health for /metrics (0 healthy ... 4 stuck)
    HEALTH_LEVEL = {Health.HEALTHY: 0, Health.NEVER_RUN: 1, Health.DISABLED: 1, Health.LAGGING: 2,
                    Health.FAILING: 3, Health.STUCK: 4}

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="replication_policies")
    harbor_id = models.BigIntegerField()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    direction = models.CharField(max_length=4)  # push | pull
    remote_registry = models.ForeignKey(Registry, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="policies")
    remote_name = models.CharField(max_length=255, blank=True)
    remote_url = models.CharField(max_length=1000, blank=True)
    trigger_type = models.CharField(max_length=20)  # manual | scheduled | event_based
    cron = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    replicate_deletion = models.BooleanField(default=False)
    override = models.BooleanField(default=False)
    dest_namespace = models.CharField(max_length=255, blank=True)
    filters = models.JSONField(default=list, blank=True)
    harbor_created_at = models.DateTimeField(null=True, blank=True)
    harbor_updated_at = models.DateTimeField(null=True, blank=True)
    # health roll-up (services.health), recomputed at every collection
    health = models.CharField(max_length=20, choices=Health.choices, default=Health.NEVER_RUN)
    health_reason = models.CharField(max_length=500, blank=True)
    last_status = models.CharField(max_length=20, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failure_rate_24h = models.FloatField(null=True, blank=True)
    failure_rate_7d = models.FloatField(null=True, blank=True)
    stuck_count = models.PositiveIntegerField(default=0)
    missed_runs = models.PositiveIntegerField(default=0)
    overlapping = models.BooleanField(default=False)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("instance__name", "name")
        constraints = [models.UniqueConstraint(fields=["instance", "harbor_id"], name="replication_policy_uniq")]
        indexes = [models.Index(fields=["health"])]

    def __str__(self) -> str:
        return f"{self.instance.name}: {self.name}"

    def health_color(self) -> str:
        return self.HEALTH_COLORS.get(self.Health(self.health), "unknown")

    def last_success_age_seconds(self, at: datetime) -> float | None:
        return (at - self.last_success_at).total_seconds() if self.last_success_at else None

    def owned_schedule_or_none(self) -> OwnedSchedule | None:
        return OwnedSchedule.objects.filter(policy=self).first()


class Execution(models.Model):
    class Status(models.TextChoices):
        # Harbor's strings (server/v2.0/handler/replication.go convertExecution)
        IN_PROGRESS = "InProgress", "In progress"
        SUCCEED = "Succeed", "Succeeded"
        FAILED = "Failed", "Failed"
        STOPPED = "Stopped", "Stopped"

    STATUS_COLORS = {Status.IN_PROGRESS: "info", Status.SUCCEED: "success", Status.FAILED: "failure",
                     Status.STOPPED: "warning"}

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="replication_executions")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="executions")
    harbor_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    status_text = models.TextField(blank=True)
    trigger = models.CharField(max_length=20, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    succeed = models.PositiveIntegerField(default=0)
    in_progress = models.PositiveIntegerField(default=0)
    stopped = models.PositiveIntegerField(default=0)
    tasks_read = models.BooleanField(default=False)  # failed tasks fetched (once, when it failed)
    read_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-start_time", "-harbor_id")
        constraints = [models.UniqueConstraint(fields=["instance", "harbor_id"], name="replication_execution_uniq")]
        indexes = [models.Index(fields=["policy", "start_time"]), models.Index(fields=["instance", "status"])]

    def __str__(self) -> str:
        return f"execution {self.harbor_id} of {self.policy}"

    def status_color(self) -> str:
        return self.STATUS_COLORS.get(self.Status(self.status), "unknown") if self.status in self.Status.values else ""


class FailedTask(models.Model):
    """A failed (or stopped) task of a failed execution; its log is read from Harbor when asked."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="failed_tasks")
    harbor_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    operation = models.CharField(max_length=20, blank=True)
    resource_type = models.CharField(max_length=50, blank=True)
    src_resource = models.CharField(max_length=1000, blank=True)
    dst_resource = models.CharField(max_length=1000, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("harbor_id",)
        constraints = [models.UniqueConstraint(fields=["execution", "harbor_id"], name="replication_task_uniq")]

    def __str__(self) -> str:
        return f"task {self.harbor_id} of {self.execution}"


class HAPair(models.Model):
    """Two-way replication that harborops set up for a fleet HA group (mode two-way replication):
    what it created on each side (so teardown removes exactly that) and the last consistency check."""

    class Status(models.TextChoices):
        SET_UP = "set_up", "Set up"
        PARTIAL = "partial", "Partly set up"
        TORN_DOWN = "torn_down", "Torn down"

    group = models.OneToOneField(HAGroup, on_delete=models.CASCADE, related_name="replication_pair")
    projects = models.JSONField(default=list)  # project names replicated both ways
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PARTIAL)
    updated_at = models.DateTimeField(auto_now=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    consistent = models.BooleanField(null=True)
    missing = models.JSONField(default=dict, blank=True)  # {instance name: ["project/repo@digest tags", ...]}
    missing_count = models.PositiveIntegerField(default=0)
    project_counts = models.JSONField(default=dict, blank=True)  # {project: {instance name: missing there}}

    def __str__(self) -> str:
        return f"pair {self.group.name}"


class PairSide(models.Model):
    """One member of a pair and what setup created on it (Harbor ids; the robot's secret encrypted)."""

    pair = models.ForeignKey(HAPair, on_delete=models.CASCADE, related_name="sides")
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    robot_id = models.BigIntegerField(null=True, blank=True)
    robot_name = models.CharField(max_length=255, blank=True)
    robot_secret = EncryptedTextField(blank=True)  # used by the peer's registry endpoint; never shown
    registry_id = models.BigIntegerField(null=True, blank=True)  # on this instance, pointing at the peer
    policy_id = models.BigIntegerField(null=True, blank=True)  # push policy on this instance
    projects_created = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("instance__name",)
        constraints = [models.UniqueConstraint(fields=["pair", "instance"], name="replication_pairside_uniq")]

    def __str__(self) -> str:
        return f"{self.pair}: {self.instance.name}"


class OwnedSchedule(models.Model):
    """A schedule harborops owns for a policy (a django-celery-beat entry that triggers it), instead of
    Harbor's own cron: with `skip_if_running` a run does not start while one of the policy is InProgress
    on Harbor (read live), and the skip is logged, so runs never pile up behind a slow or stuck one."""

    class Outcome(models.TextChoices):
        STARTED = "started", "Started"
        SKIPPED = "skipped", "Skipped (still running)"
        FAILED = "failed", "Failed to start"

    policy = models.OneToOneField(Policy, on_delete=models.CASCADE, related_name="owned_schedule")
    cron = models.CharField(max_length=100, help_text="m h dom mon dow (server time zone)")
    enabled = models.BooleanField(default=True)
    skip_if_running = models.BooleanField(default=True)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_message = models.CharField(max_length=500, blank=True)
    last_execution_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"schedule of {self.policy}"


class MissingArtifact(models.Model):
    """One line of the last consistency check's report: an artifact (or some of its tags) present on one
    member of a pair and missing on the other. Written repository by repository (never the whole
    project in memory); the report page pages through them and streams them as CSV."""

    class Kind(models.TextChoices):
        ARTIFACT = "artifact", "Artifact missing"
        TAGS = "tags", "Tags missing"

    pair = models.ForeignKey(HAPair, on_delete=models.CASCADE, related_name="missing_items")
    missing_on = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    present_on = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    project = models.CharField(max_length=255)
    repository = models.CharField(max_length=1000)
    digest = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    tags = models.JSONField(default=list, blank=True)  # the artifact's tags, or the tags missing

    class Meta:
        ordering = ("pk",)
        indexes = [models.Index(fields=["pair", "missing_on"])]

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest} missing on {self.missing_on}"

    def line(self) -> str:
        if self.kind == self.Kind.TAGS:
            return f"{self.repository}@{self.digest} tags {', '.join(self.tags)}"
        return f"{self.repository}@{self.digest} [{', '.join(self.tags)}]" if self.tags else \
            f"{self.repository}@{self.digest}"
