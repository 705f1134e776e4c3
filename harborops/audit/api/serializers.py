from __future__ import annotations

from rest_framework import serializers

from harborops.audit.models import ActionLogEntry


class ActionLogEntrySerializer(serializers.ModelSerializer[ActionLogEntry]):
    class Meta:
        model = ActionLogEntry
        fields = ("id", "time", "actor_name", "request_id", "source_ip", "action", "object_type", "object_id",
                  "object_repr", "before", "after", "outcome", "message")
