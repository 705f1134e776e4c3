from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from harborops.fleet.models import Instance
from harborops.maintenance.models import GCPolicy, GCStep, InstanceGC, OfflineTarget
from harborops.ssh.models import SSHHost


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "02:00"})
class HourMinuteField(serializers.TimeField):
    """A time of day written ``HH:MM`` (the window's start); ``HH:MM:SS`` is accepted too."""


class GCPolicySerializer(serializers.ModelSerializer[GCPolicy]):
    """A GC policy. ``instances`` are instance names (for targets ``listed``)."""

    instances = serializers.SlugRelatedField(slug_field="name", many=True, required=False,
                                             queryset=Instance.objects.all())
    offline_targets = serializers.SlugRelatedField(slug_field="name", many=True, required=False,
                                                   queryset=OfflineTarget.objects.all())
    window_start = HourMinuteField(required=False, allow_null=True, format="%H:%M")
    beat_entry = serializers.SerializerMethodField()

    class Meta:
        model = GCPolicy
        fields = ("id", "name", "enabled", "targets", "target_label", "instances", "offline_targets", "cron",
                  "window_start",
                  "window_minutes", "concurrency", "delete_untagged", "dry_run_first", "workers", "harbor_cron",
                  "notes", "beat_entry", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")

    def get_beat_entry(self, policy: GCPolicy) -> str | None:
        return policy.periodic_task.name if policy.periodic_task else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        targets = attrs.get("targets", getattr(self.instance, "targets", GCPolicy.Targets.ALL))
        if targets == GCPolicy.Targets.LISTED and "instances" in attrs and not attrs["instances"] \
                and not attrs.get("offline_targets"):
            raise serializers.ValidationError({"instances": "pick at least one instance or offline registry"})
        return attrs


class GCStepSerializer(serializers.ModelSerializer[GCStep]):
    log = serializers.SerializerMethodField()

    class Meta:
        model = GCStep
        fields = ("id", "job", "position", "instance", "offline_target", "instance_name", "status", "phase",
                  "dry_run_gc_id", "harbor_gc_id", "harbor_status", "started_at", "finished_at", "estimated_bytes",
                  "freed_bytes", "freed_source", "free_before", "free_after", "used_before", "used_after",
                  "state_left", "message", "log", "harbor_log")

    def get_log(self, step: GCStep) -> list[str]:
        return step.log_lines()


class FindingSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    message = serializers.CharField()


class InstanceGCSerializer(serializers.ModelSerializer[InstanceGC]):
    class Meta:
        model = InstanceGC
        fields = ("checked_at", "check_error", "schedule_type", "schedule_cron", "schedule_params",
                  "schedule_created", "schedule_seen_at", "schedule_lost_at", "last_run_id", "last_run_status",
                  "last_run_trigger", "last_run_start", "last_run_end", "last_scheduled_start", "last_success_at",
                  "running_since")


class InstanceRowSerializer(serializers.Serializer[Any]):
    """One instance's GC: Harbor's schedule (``harbor``), the policy's expectation, drift, findings."""

    instance = serializers.CharField(source="instance.name")
    instance_id = serializers.IntegerField(source="instance.pk")
    ha_group = serializers.CharField(source="instance.ha_group.name", allow_null=True, default=None)
    harbor = InstanceGCSerializer(source="state", allow_null=True)
    expected_policy = serializers.CharField(source="expected.policy.name", allow_null=True, default=None)
    expected_cron = serializers.CharField(source="expected.cron", allow_null=True, default=None)
    drift = serializers.CharField()
    last_success = serializers.DateTimeField(allow_null=True)
    findings = FindingSerializer(many=True)


class OfflineTargetSerializer(serializers.ModelSerializer[OfflineTarget]):
    """A registry collected offline over SSH. Commands are argument lists, never shell strings."""

    host = serializers.SlugRelatedField(slug_field="name", queryset=SSHHost.objects.all())
    fleet_instance = serializers.SlugRelatedField(source="instance", slug_field="name", required=False,
                                                  queryset=Instance.objects.all(), allow_null=True)
    stop_command = serializers.ListField(child=serializers.CharField(), required=False)
    start_command = serializers.ListField(child=serializers.CharField(), required=False)
    gc_command = serializers.ListField(child=serializers.CharField(), required=False)
    verify_refs = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = OfflineTarget
        fields = ("id", "name", "host", "fleet_instance", "stop_mode", "compose_dir", "compose_service", "systemd_unit",
                  "stop_command", "start_command", "gc_command", "config_path", "storage_dir", "registry_url",
                  "verify_refs", "command_timeout", "notes")
