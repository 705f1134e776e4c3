from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.replication.models import (
    CollectState,
    Execution,
    FailedTask,
    MissingArtifact,
    PairSide,
    Policy,
    Registry,
)


class RegistrySerializer(serializers.ModelSerializer[Registry]):
    instance_name = serializers.CharField(source="instance.name", read_only=True)

    class Meta:
        model = Registry
        fields = ("id", "instance", "instance_name", "harbor_id", "name", "url", "type", "harbor_status",
                  "reachable", "ping_error", "checked_at")


class PolicySerializer(serializers.ModelSerializer[Policy]):
    instance_name = serializers.CharField(source="instance.name", read_only=True)
    last_success_age_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = ("id", "instance", "instance_name", "harbor_id", "name", "description", "direction",
                  "remote_registry", "remote_name", "remote_url", "trigger_type", "cron", "enabled",
                  "replicate_deletion", "override", "dest_namespace", "filters", "health", "health_reason",
                  "last_status", "last_run_at", "last_success_at", "last_success_age_seconds", "failure_rate_24h",
                  "failure_rate_7d", "stuck_count", "missed_runs", "overlapping", "computed_at")

    def get_last_success_age_seconds(self, obj: Policy) -> float | None:
        from django.utils.timezone import now

        return obj.last_success_age_seconds(now())


class FailedTaskSerializer(serializers.ModelSerializer[FailedTask]):
    class Meta:
        model = FailedTask
        fields = ("id", "harbor_id", "status", "operation", "resource_type", "src_resource", "dst_resource",
                  "start_time", "end_time")


class ExecutionSerializer(serializers.ModelSerializer[Execution]):
    failed_tasks = FailedTaskSerializer(many=True, read_only=True)

    class Meta:
        model = Execution
        fields = ("id", "instance", "policy", "harbor_id", "status", "status_text", "trigger", "start_time",
                  "end_time", "total", "failed", "succeed", "in_progress", "stopped", "failed_tasks")


class CollectStateSerializer(serializers.ModelSerializer[CollectState]):
    instance_name = serializers.CharField(source="instance.name", read_only=True)

    class Meta:
        model = CollectState
        fields = ("instance", "instance_name", "last_run_at", "last_ok_at", "last_error", "executions_read")


class TaskLogSerializer(serializers.Serializer[dict[str, str]]):
    log = serializers.CharField()


class _RequiredBoolean(serializers.BooleanField):
    # DRF reads an absent form field as False; here it must be given, or a bare POST would disable.
    default_empty_html = serializers.empty


class EnabledSerializer(serializers.Serializer[dict[str, bool]]):
    enabled = _RequiredBoolean()


class TriggeredSerializer(serializers.Serializer[dict[str, int]]):
    execution_id = serializers.IntegerField(help_text="Harbor's execution id")


class PairSideSerializer(serializers.ModelSerializer[PairSide]):
    """What setup created on one member (the robot's secret is never part of it)."""

    instance_name = serializers.CharField(source="instance.name", read_only=True)

    class Meta:
        model = PairSide
        fields = ("instance", "instance_name", "robot_id", "robot_name", "registry_id", "policy_id",
                  "projects_created")


class LoopRiskSerializer(serializers.Serializer[Any]):
    policy = serializers.IntegerField(source="policy.pk")
    policy_name = serializers.CharField(source="policy.name")
    back = serializers.IntegerField(source="back.pk")
    back_name = serializers.CharField(source="back.name")
    unbounded = serializers.BooleanField()
    reason = serializers.CharField()


class PairCheckSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="version_skew | storage_volumes | storage_config | gc_single")
    severity = serializers.ChoiceField(choices=("ok", "info", "warning", "critical"))
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)


class PairSerializer(serializers.Serializer[Any]):
    group = serializers.IntegerField(source="group.pk")
    group_name = serializers.CharField(source="group.name")
    mode = serializers.CharField(source="group.mode")
    checks = PairCheckSerializer(many=True)
    status = serializers.CharField(source="pair.status", default="")
    projects = serializers.ListField(child=serializers.CharField(), source="pair.projects", default=list)
    checked_at = serializers.DateTimeField(source="pair.checked_at", default=None)
    consistent = serializers.BooleanField(source="pair.consistent", default=None, allow_null=True)
    missing_count = serializers.IntegerField(source="pair.missing_count", default=0)
    project_counts = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()),
                                           source="pair.project_counts", default=dict,
                                           help_text="{project: {member: artifacts or tags missing there}}")
    missing = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    source="pair.missing", default=dict)
    sides = PairSideSerializer(many=True, source="pair.sides.all", default=list)
    loop_risks = LoopRiskSerializer(many=True)


class PairSetupSerializer(serializers.Serializer[Any]):
    projects = serializers.ListField(child=serializers.CharField(max_length=255), allow_empty=False)


class TopologyNodeSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text='"instance:<id>" or "external:<url>"')
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=("instance", "external"))
    x = serializers.FloatField()
    y = serializers.FloatField()
    link = serializers.CharField(allow_blank=True)
    instance_id = serializers.IntegerField(allow_null=True)


class TopologyEdgeSerializer(serializers.Serializer[Any]):
    policy_id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.CharField(help_text="node key the data comes from")  # type: ignore[assignment]  # DRF pops declared fields; Field.source is untouched
    target = serializers.CharField(help_text="node key the data goes to")
    source_name = serializers.CharField()
    target_name = serializers.CharField()
    health = serializers.CharField()
    color = serializers.CharField()
    direction = serializers.CharField()
    trigger = serializers.CharField()
    enabled = serializers.BooleanField()
    link = serializers.CharField()


class TopologySerializer(serializers.Serializer[Any]):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    nodes = TopologyNodeSerializer(many=True)
    edges = TopologyEdgeSerializer(many=True)


class OwnedScheduleSerializer(serializers.Serializer[Any]):
    cron = serializers.CharField(max_length=100, help_text="m h dom mon dow (server time zone)")
    enabled = serializers.BooleanField(default=True)
    skip_if_running = serializers.BooleanField(default=True)
    last_fired_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_outcome = serializers.CharField(read_only=True)
    last_message = serializers.CharField(read_only=True)
    last_execution_id = serializers.IntegerField(read_only=True, allow_null=True)


class MissingArtifactSerializer(serializers.ModelSerializer[MissingArtifact]):
    missing_on_name = serializers.CharField(source="missing_on.name", read_only=True)
    present_on_name = serializers.CharField(source="present_on.name", read_only=True)

    class Meta:
        model = MissingArtifact
        fields = ("id", "missing_on", "missing_on_name", "present_on", "present_on_name", "project", "repository",
                  "digest", "kind", "tags")
