from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.alerts.models import SEVERITY_CHOICES, Alert, Channel, DeliveryAttempt, Notification, Route, Silence
from harborops.core.conditions import title
from harborops.fleet.models import Instance


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ("attempt", "started_at", "finished_at", "ok", "status_code", "reply", "error")
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    channel = serializers.CharField(source="channel.name", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = ("id", "channel", "route_name", "kind", "idempotency_key", "status", "attempts", "next_attempt_at",
                  "created_at", "sent_at", "last_error", "attempt_log")
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer[Alert]):
    title = serializers.SerializerMethodField()
    silenced = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields: tuple[str, ...] = (
                  "id", "condition", "title", "subject", "severity", "summary", "details", "link", "instance",
                  "instance_name", "labels", "state", "first_seen", "last_seen", "acknowledged_by_name",
                  "acknowledged_at", "acknowledge_comment", "resolved_at", "last_notified_at", "silenced",
                  "silenced_by")
        read_only_fields: tuple[str, ...] = fields

    def get_title(self, alert: Alert) -> str:
        return title(alert.condition)

    def get_silenced(self, alert: Alert) -> bool:
        return alert.silenced_by_id is not None


class AlertDetailSerializer(AlertSerializer):
    notifications = NotificationSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = (*AlertSerializer.Meta.fields, "notifications")
        read_only_fields = fields


class AckSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SilenceSerializer(serializers.ModelSerializer[Silence]):
    instance_name = serializers.SlugRelatedField(source="instance", slug_field="name", queryset=Instance.objects.all(),
                                                 required=False, allow_null=True)
    labels = serializers.DictField(child=serializers.CharField(), required=False)
    starts_at = serializers.DateTimeField(required=False)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Silence
        fields = ("id", "condition", "instance_name", "labels", "starts_at", "ends_at", "reason", "author_name",
                  "created_at", "active")
        read_only_fields = ("author_name", "created_at")

    def get_active(self, silence: Silence) -> bool:
        from django.utils.timezone import now

        return silence.is_active(now())


class RouteSerializer(serializers.ModelSerializer[Route]):
    channels = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Channel.objects.all(),
                                            required=False)
    severities = serializers.ListField(child=serializers.ChoiceField(choices=SEVERITY_CHOICES), required=False)
    conditions = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    labels = serializers.DictField(child=serializers.CharField(), required=False)

    class Meta:
        model = Route
        fields = ("id", "name", "position", "enabled", "is_default", "severities", "conditions", "labels",
                  "continue_matching", "channels", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class ChannelSerializer(serializers.ModelSerializer[Channel]):
    """``url`` and ``secret`` are write-only (webhook URLs of Slack or Teams carry tokens): ``has_url``
    and ``has_secret`` say whether one is stored. Absent on update: kept; ``secret: ""`` clears it."""

    url = serializers.URLField(write_only=True, required=False, allow_blank=True, max_length=500)
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False,
                                   style={"input_type": "password"})
    has_url = serializers.SerializerMethodField()
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = ("id", "name", "kind", "enabled", "email_to", "url", "has_url", "webhook_format", "secret",
                  "has_secret", "failing_since", "last_success_at", "last_error", "created_at", "updated_at")
        read_only_fields = ("failing_since", "last_success_at", "last_error", "created_at", "updated_at")

    def get_has_url(self, channel: Channel) -> bool:
        return bool(channel.url)

    def get_has_secret(self, channel: Channel) -> bool:
        return bool(channel.secret)


class AttentionSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    alert_counts = serializers.DictField(child=serializers.IntegerField())
    alerts = AlertSerializer(many=True)
    fleet = serializers.DictField(child=serializers.IntegerField())
    down = serializers.SerializerMethodField()
    certificates = serializers.ListField(child=serializers.DictField())
    replications = serializers.ListField(child=serializers.DictField())
    gc = serializers.ListField(child=serializers.DictField())
    jobs = serializers.SerializerMethodField()
    notes = serializers.ListField(child=serializers.CharField())

    def get_down(self, obj: Any) -> list[dict[str, Any]]:
        return [{"id": i.pk, "name": i.name} for i in obj.down]

    def get_jobs(self, obj: Any) -> list[dict[str, Any]]:
        return [{"id": j.pk, "kind": j.kind, "status": j.status, "created_at": j.created_at} for j in obj.jobs]
