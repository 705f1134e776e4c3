from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.access.models import DriftFinding, TeamMapping
from harborops.access.services import preflight
from harborops.fleet.models import Instance


class MappingSerializer(serializers.ModelSerializer[TeamMapping]):
    instances = serializers.PrimaryKeyRelatedField(many=True, queryset=Instance.objects.all(), required=False)

    class Meta:
        model = TeamMapping
        fields = ("id", "ldap_group_dn", "ldap_group_name", "project_name", "project_public", "project_quota_gib",
                  "role", "targets", "target_label", "instances", "authoritative", "expand_nested", "notes",
                  "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        validators: list[Any] = []  # the unique constraint is checked by the service (full_clean)


class DriftFindingSerializer(serializers.ModelSerializer[DriftFinding]):
    instance_name = serializers.CharField(source="instance.name", read_only=True)

    class Meta:
        model = DriftFinding
        fields = ("id", "checked_at", "instance", "instance_name", "mapping", "kind", "project_name", "entity",
                  "detail")


class ApplySerializer(serializers.Serializer[dict[str, Any]]):
    mapping_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                        required=False, allow_null=True,
                                        help_text="only these mappings; omit for every mapping")
    force = serializers.BooleanField(required=False, default=False,
                                     help_text="also apply mappings the preflight finds ineffective on an "
                                               "instance (recorded in the action log with the findings)")


class GroupSerializer(serializers.Serializer[dict[str, Any]]):
    dn = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class PreflightFindingSerializer(serializers.Serializer[dict[str, Any]]):
    check = serializers.ChoiceField(choices=preflight.CHECKS)
    status = serializers.ChoiceField(choices=preflight.STATUSES)
    reason = serializers.CharField()
    message = serializers.CharField()


class PreflightCheckSerializer(serializers.Serializer[dict[str, Any]]):
    """One mapping's preflight on one instance (access/services/preflight.py MappingCheck.as_dict)."""

    instance_id = serializers.IntegerField()
    instance = serializers.CharField()  # type: ignore[assignment]  # the instance's name, not the serializer's
    mapping_id = serializers.IntegerField(allow_null=True)
    mapping = serializers.CharField()
    group_dn = serializers.CharField()
    findings = PreflightFindingSerializer(many=True)
    status = serializers.ChoiceField(choices=preflight.STATUSES)
    ineffective = serializers.BooleanField()
    summary = serializers.CharField()
