from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.replication.models import CollectState, Execution, FailedTask, PairSide, Policy, Registry


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


class PairSerializer(serializers.Serializer[Any]):
    group = serializers.IntegerField(source="group.pk")
    group_name = serializers.CharField(source="group.name")
    status = serializers.CharField(source="pair.status", default="")
    projects = serializers.ListField(child=serializers.CharField(), source="pair.projects", default=list)
    checked_at = serializers.DateTimeField(source="pair.checked_at", default=None)
    consistent = serializers.BooleanField(source="pair.consistent", default=None, allow_null=True)
    missing_count = serializers.IntegerField(source="pair.missing_count", default=0)
    missing = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    source="pair.missing", default=dict)
    sides = PairSideSerializer(many=True, source="pair.sides.all", default=list)
    loop_risks = LoopRiskSerializer(many=True)


class PairSetupSerializer(serializers.Serializer[Any]):
    projects = serializers.ListField(child=serializers.CharField(max_length=255), allow_empty=False)
