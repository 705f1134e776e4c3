from __future__ import annotations

from rest_framework import serializers

from harborops.core.models import ApiToken, JobLogLine, JobRun, LoginFailureCounter


class JobRunSerializer(serializers.ModelSerializer[JobRun]):
    target_type = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = JobRun
        fields = ("id", "kind", "status", "trigger", "actor_name", "target_type", "target_id", "target_repr",
                  "params", "attempts", "max_attempts", "cancel_requested", "created_at", "started_at",
                  "finished_at", "heartbeat_at", "progress_current", "progress_total", "summary", "error",
                  "result", "url")
        read_only_fields = fields

    def get_target_type(self, job: JobRun) -> str | None:
        return f"{job.target_type.app_label}.{job.target_type.model}" if job.target_type else None

    def get_url(self, job: JobRun) -> str:
        return job.get_absolute_url()


class JobLogLineSerializer(serializers.ModelSerializer[JobLogLine]):
    class Meta:
        model = JobLogLine
        fields = ("seq", "ts", "level", "text")


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = ("id", "name", "token_id", "created_at", "last_used_at", "expires_at")
        read_only_fields = ("id", "token_id", "created_at", "last_used_at", "expires_at")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; only a digest is stored.")

    class Meta(ApiTokenSerializer.Meta):
        fields: tuple[str, ...] = (*ApiTokenSerializer.Meta.fields, "key")


class LoginLockoutSerializer(serializers.ModelSerializer[LoginFailureCounter]):
    class Meta:
        model = LoginFailureCounter
        fields = ("id", "kind", "key", "failures", "window_started_at", "last_failure_at", "locked_until")
        read_only_fields = fields
