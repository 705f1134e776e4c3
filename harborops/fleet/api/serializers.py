from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.fleet.models import HAGroup, HealthSnapshot, Instance, StatusChange, SweepChunk, SweepRun


class InstanceSerializer(serializers.ModelSerializer[Instance]):
    """Credentials are write-only: ``password`` is accepted, never returned (``has_password`` says
    whether one is stored). A blank or absent password on update keeps the stored one."""

    password = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False,
                                     style={"input_type": "password"})
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = Instance
        fields = ("id", "name", "url", "labels", "credential_kind", "username", "password", "has_password",
                  "ca_bundle", "notes", "enabled", "ha_group", "status", "status_since", "last_seen_at",
                  "last_swept_at", "version", "latency_ms", "storage_total", "storage_free",
                  "unhealthy_components", "statistics", "error_kind", "error_message")
        read_only_fields = ("status", "status_since", "last_seen_at", "last_swept_at", "version", "latency_ms",
                            "storage_total", "storage_free", "unhealthy_components", "statistics", "error_kind",
                            "error_message")

    def get_has_password(self, instance: Instance) -> bool:
        return bool(instance.password)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": "required for a new instance"})
        return attrs


class HealthSnapshotSerializer(serializers.ModelSerializer[HealthSnapshot]):
    class Meta:
        model = HealthSnapshot
        fields = ("id", "taken_at", "status", "latency_ms", "version", "components", "storage_total",
                  "storage_free", "statistics", "job_queues", "error_kind", "error")


class StatusChangeSerializer(serializers.ModelSerializer[StatusChange]):
    class Meta:
        model = StatusChange
        fields = ("id", "at", "from_status", "to_status", "reason")


class ConnectionTestSerializer(serializers.Serializer[dict[str, Any]]):
    url = serializers.URLField()
    username = serializers.CharField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    ca_bundle = serializers.CharField(required=False, allow_blank=True, default="")


class HAGroupSerializer(serializers.ModelSerializer[HAGroup]):
    members = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Instance.objects.all(),
                                           source="instances", help_text="instance names (two or more)")

    class Meta:
        model = HAGroup
        fields = ("id", "name", "hostname", "mode", "notes", "members")


class ImportSerializer(serializers.Serializer[dict[str, Any]]):
    content = serializers.CharField(help_text="CSV or YAML text", trim_whitespace=False)
    format = serializers.ChoiceField(choices=("", "csv", "yaml"), default="", required=False)
    dry_run = serializers.BooleanField(default=False, required=False)


class ImportResultSerializer(serializers.Serializer[dict[str, Any]]):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]
    applied = serializers.BooleanField()


class SweepChunkSerializer(serializers.ModelSerializer[SweepChunk]):
    seconds = serializers.FloatField(read_only=True, allow_null=True, help_text="Wall time of the chunk's task")
    instances = serializers.SerializerMethodField()

    class Meta:
        model = SweepChunk
        fields = ("index", "state", "instances", "swept", "worker", "started_at", "finished_at", "seconds",
                  "poll_seconds", "record_seconds")
        read_only_fields = fields

    def get_instances(self, obj: SweepChunk) -> int:
        return len(obj.instance_ids)


class SweepRunSerializer(serializers.ModelSerializer[SweepRun]):
    """One fleet sweep: instances, outcomes, duration and how long each chunk took where."""

    duration_seconds = serializers.SerializerMethodField()
    chunks = SweepChunkSerializer(many=True, read_only=True)

    class Meta:
        model = SweepRun
        fields = ("id", "trigger", "job", "started_at", "finished_at", "duration_seconds", "instances",
                  "chunks_total", "chunks_done", "chunks_expired", "up", "degraded", "down", "unknown", "transitions",
                  "chunks")
        read_only_fields = fields

    def get_duration_seconds(self, obj: SweepRun) -> float | None:
        return obj.duration.total_seconds() if obj.duration is not None else None


class SweepFreshnessSerializer(serializers.Serializer[dict[str, Any]]):
    last = SweepRunSerializer(allow_null=True, help_text="The last complete sweep")
    current = SweepRunSerializer(allow_null=True, help_text="A sweep still in progress")
    age_seconds = serializers.FloatField(allow_null=True, help_text="Since the last complete sweep finished")
    interval_seconds = serializers.FloatField(allow_null=True, help_text="The sweep schedule's interval")
    stale = serializers.BooleanField(help_text="The last complete sweep is older than 3 intervals")
    incomplete = SweepRunSerializer(allow_null=True, help_text="The newest ended sweep, when chunks of it expired "
                                    "unpolled (no worker took them in time) and it ended after the last complete one")
