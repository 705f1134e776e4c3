from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.events.models import EventCursor, HarborEvent, IngestAnomaly


class SearchRowSerializer(serializers.Serializer[Any]):
    """One row of the unified search: a Harbor event (source "harbor") or a harborops action."""

    time = serializers.DateTimeField(source="ts")
    source = serializers.SerializerMethodField()  # type: ignore[assignment]
    id = serializers.IntegerField(source="rid")
    instance = serializers.CharField(source="inst")
    user = serializers.CharField(source="who")
    operation = serializers.CharField(source="op")
    resource_type = serializers.CharField(source="rtype")
    resource = serializers.CharField(source="res")
    project = serializers.CharField(source="proj")
    detail = serializers.CharField(allow_null=True)

    def get_source(self, row: dict[str, Any]) -> str:
        return "harbor" if row["src"] == "h" else "harborops"


class SearchPageSerializer(serializers.Serializer[Any]):
    results = SearchRowSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.CharField(allow_null=True)


class HarborEventSerializer(serializers.ModelSerializer[HarborEvent]):
    class Meta:
        model = HarborEvent
        fields = ("id", "instance", "instance_name", "source", "epoch", "harbor_id", "op_time", "username",
                  "operation", "resource_type", "resource", "project", "description", "result", "raw",
                  "ingested_at")
        read_only_fields = fields


class ActivitySerializer(serializers.Serializer[Any]):
    day = serializers.DateField()
    operation = serializers.CharField()
    count = serializers.IntegerField()


class CursorSerializer(serializers.ModelSerializer[EventCursor]):
    class Meta:
        model = EventCursor
        fields = ("source", "epoch", "last_id", "complete", "updated_at")


class AnomalySerializer(serializers.ModelSerializer[IngestAnomaly]):
    class Meta:
        model = IngestAnomaly
        fields = ("id", "instance", "source", "epoch", "kind", "from_id", "to_id", "missing", "message", "detected_at")


class InstanceFiguresSerializer(serializers.Serializer[Any]):
    instance = serializers.IntegerField(source="instance.pk")
    name = serializers.CharField(source="instance.name")
    stored = serializers.IntegerField()
    oldest = serializers.DateTimeField(allow_null=True)
    newest = serializers.DateTimeField(allow_null=True)
    cursors = CursorSerializer(many=True)
    anomalies = serializers.IntegerField()
    last_run_at = serializers.DateTimeField(source="state.last_run_at", allow_null=True, default=None)
    last_error = serializers.CharField(source="state.last_error", allow_null=True, default=None)
    version = serializers.CharField(source="state.version", allow_null=True, default=None)
    forward_endpoint = serializers.CharField(source="state.forward_endpoint", allow_null=True, default=None)
    skip_database = serializers.BooleanField(source="state.skip_database", allow_null=True, default=None)
    forwarding_checked_at = serializers.DateTimeField(source="state.forwarding_checked_at", allow_null=True,
                                                      default=None)
