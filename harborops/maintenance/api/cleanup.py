"""The clean-up report and clean-ups (dry run, confirm, delete) over the API: the same services as
the pages. Report lists read stored rows and are paged (``limit`` / ``offset``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import OPERATOR
from harborops.fleet.models import Instance
from harborops.maintenance.models import CleanupItem, CleanupPlan, ProjectUsage, RepositoryUsage, UntaggedArtifact
from harborops.maintenance.services import cleanup, deletions
from harborops.maintenance.tasks import start_scan


class UntaggedArtifactSerializer(serializers.ModelSerializer[UntaggedArtifact]):
    instance_name = serializers.CharField(source="instance.name")

    class Meta:
        model = UntaggedArtifact
        fields = ("id", "instance_name", "project_name", "repository", "digest", "size", "push_time", "pull_time",
                  "collected_at")


class ProjectUsageSerializer(serializers.ModelSerializer[ProjectUsage]):
    instance_name = serializers.CharField(source="instance.name")
    quota_share = serializers.FloatField(allow_null=True, read_only=True)

    class Meta:
        model = ProjectUsage
        fields = ("id", "instance_name", "project_id", "name", "quota_hard", "quota_used", "quota_share",
                  "repositories", "artifacts", "untagged_count", "untagged_bytes", "collected_at")


class RepositoryUsageSerializer(serializers.ModelSerializer[RepositoryUsage]):
    instance_name = serializers.CharField(source="instance.name")

    class Meta:
        model = RepositoryUsage
        fields = ("id", "instance_name", "project_name", "name", "artifacts", "untagged", "size_bytes", "pull_count",
                  "last_pull", "last_push", "created", "collected_at")


class CleanupItemSerializer(serializers.ModelSerializer[CleanupItem]):
    class Meta:
        model = CleanupItem
        fields = ("id", "instance_name", "kind", "repository", "reference", "size", "check_state", "check_message",
                  "result", "result_message", "done_at")


class ItemInSerializer(serializers.Serializer[Any]):
    instance = serializers.SlugRelatedField(slug_field="name", queryset=Instance.objects.filter(enabled=True))
    kind = serializers.ChoiceField(choices=CleanupItem.Kind.choices)
    repository = serializers.CharField(max_length=512)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CleanupPlanSerializer(serializers.ModelSerializer[CleanupPlan]):
    """A clean-up. Create it with ``items`` and/or ids from the report (``untagged``, ``repositories``):
    its dry run starts at once; ``POST …/confirm/`` deletes what the dry run found."""

    items = CleanupItemSerializer(many=True, read_only=True)
    add_items = ItemInSerializer(many=True, write_only=True, required=False, source="items_in")
    untagged = serializers.ListField(child=serializers.IntegerField(), write_only=True, required=False)
    repositories = serializers.ListField(child=serializers.IntegerField(), write_only=True, required=False)

    class Meta:
        model = CleanupPlan
        fields = ("id", "status", "actor_name", "created_at", "dry_run_job", "delete_job", "confirmed_by",
                  "confirmed_at", "items", "add_items", "untagged", "repositories")
        read_only_fields = ("status", "actor_name", "created_at", "dry_run_job", "delete_job", "confirmed_by",
                            "confirmed_at")


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return max(1, int(raw)) if raw else default
    except ValueError:
        raise serializers.ValidationError({name: "a whole number"}) from None


def _instance_filter(request: Request, rows: QuerySet[Any]) -> QuerySet[Any]:
    name = request.query_params.get("instance")
    return rows.filter(instance__name=name) if name else rows


INSTANCE = OpenApiParameter("instance", OpenApiTypes.STR, description="only this instance (name)")


class _ReportViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Any]):
    write_role = OPERATOR
    filterset_class = None

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=False, methods=["post"])
    def scan(self, request: Request) -> Response:
        """Collect the report from every instance now (a job)."""
        job = start_scan(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(parameters=[INSTANCE, OpenApiParameter("project", OpenApiTypes.STR)])
class UntaggedArtifactViewSet(_ReportViewSet):
    """Untagged artifacts at the last collection, biggest first."""

    serializer_class = UntaggedArtifactSerializer

    def get_queryset(self) -> QuerySet[UntaggedArtifact]:
        rows = _instance_filter(self.request, cleanup.untagged_artifacts())
        project = self.request.query_params.get("project")
        return rows.filter(project_name=project) if project else rows


@extend_schema(parameters=[INSTANCE, OpenApiParameter(
    "min_share", OpenApiTypes.INT, description="only projects using at least this % of a finite quota"),
    OpenApiParameter("untagged", OpenApiTypes.BOOL, description="only projects with untagged artifacts")])
class ProjectUsageViewSet(_ReportViewSet):
    """Projects per instance: quota and untagged artifacts at the last collection."""

    serializer_class = ProjectUsageSerializer

    def get_queryset(self) -> QuerySet[ProjectUsage]:
        if "min_share" in self.request.query_params:
            rows = cleanup.over_quota(_int_param(self.request, "min_share", settings.CLEANUP_QUOTA_PERCENT) / 100)
        elif self.request.query_params.get("untagged") in ("true", "1"):
            rows = cleanup.untagged_projects()
        else:
            rows = ProjectUsage.objects.select_related("instance").order_by("instance__name", "name")
        return _instance_filter(self.request, rows)


@extend_schema(parameters=[INSTANCE, OpenApiParameter(
    "unpulled_days", OpenApiTypes.INT, description="only repositories nobody pulled for this many days")])
class RepositoryUsageViewSet(_ReportViewSet):
    """Repositories per instance at the last collection, with their last pull."""

    serializer_class = RepositoryUsageSerializer

    def get_queryset(self) -> QuerySet[RepositoryUsage]:
        if "unpulled_days" in self.request.query_params:
            rows = cleanup.unpulled(_int_param(self.request, "unpulled_days", settings.CLEANUP_UNPULLED_DAYS))
        else:
            rows = RepositoryUsage.objects.select_related("instance").order_by("instance__name", "name")
        return _instance_filter(self.request, rows)


class CleanupPlanViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet[CleanupPlan]):
    """Deletions across instances: create (the dry run starts), read the dry run, confirm (deletes)."""

    queryset = CleanupPlan.objects.prefetch_related("items").order_by("-pk")
    serializer_class = CleanupPlanSerializer
    write_role = OPERATOR
    filterset_fields = ("status",)

    def perform_create(self, serializer: CleanupPlanSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        specs = [deletions.ItemSpec(i["instance"], i["kind"], i["repository"], i.get("reference", ""))
                 for i in data.get("items_in", [])]
        with service_errors():
            specs += deletions.from_report(untagged=data.get("untagged", []),
                                           repositories=data.get("repositories", []))
            serializer.instance = deletions.create_plan(specs, actor=request_actor(self.request))

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Delete what the dry run found (a job; each deletion goes to the action log)."""
        with service_errors():
            job = deletions.confirm(self.get_object(), actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
