from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.access.api.serializers import (
    ApplySerializer,
    DriftFindingSerializer,
    GroupSerializer,
    MappingSerializer,
    PreflightCheckSerializer,
)
from harborops.access.filtersets import DriftFilterSet, MappingFilterSet
from harborops.access.models import DriftFinding, TeamMapping
from harborops.access.services import directory, mappings, reconcile
from harborops.access.services.preflight import preflight as run_preflight
from harborops.access.tasks import start_apply, start_drift_check
from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import OPERATOR, VIEWER


class MappingViewSet(viewsets.ModelViewSet[TeamMapping]):
    """Team mappings: LDAP group → Harbor project role on target instances. Reading needs viewer,
    changing needs operator. ``plan`` shows what apply would change for this mapping."""

    queryset = TeamMapping.objects.prefetch_related("instances").order_by("project_name", "ldap_group_dn")
    serializer_class = MappingSerializer
    filterset_class = MappingFilterSet
    read_role = VIEWER
    write_role = OPERATOR

    def perform_create(self, serializer: MappingSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        instances = data.pop("instances", [])
        with service_errors():
            serializer.instance = mappings.create_mapping(actor=request_actor(self.request), instances=instances,
                                                          **data)

    def perform_update(self, serializer: MappingSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        data = dict(serializer.validated_data)
        instances = data.pop("instances", None)
        with service_errors():
            serializer.instance = mappings.update_mapping(serializer.instance, actor=request_actor(self.request),
                                                          instances=instances, **data)

    def perform_destroy(self, instance: TeamMapping) -> None:
        mappings.delete_mapping(instance, actor=request_actor(self.request))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], filterset_class=None)
    def plan(self, request: Request, pk: str | None = None) -> Response:
        """What apply would change for this mapping, per instance (read live from the instances)."""
        return Response(reconcile.compute_plan([self.get_object().pk]).as_dict())

    @extend_schema(responses={200: dict}, operation_id="access_plan_all")
    @action(detail=False, methods=["get"], url_path="plan", url_name="plan-all", filterset_class=None)
    def plan_all(self, request: Request) -> Response:
        """The plan for every mapping, including removals of what deleted mappings left behind."""
        return Response(reconcile.compute_plan().as_dict())

    @extend_schema(responses={200: PreflightCheckSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None)
    def preflight(self, request: Request, pk: str | None = None) -> Response:
        """Will Harbor resolve this mapping's LDAP group for its members? Per target instance: auth mode,
        group search filter, group base DN, and the members' membership attribute (read live)."""
        return Response([c.as_dict() for c in run_preflight([self.get_object().pk])])

    @extend_schema(responses={200: PreflightCheckSerializer(many=True)}, operation_id="access_preflight_all")
    @action(detail=False, methods=["get"], url_path="preflight", url_name="preflight-all", filterset_class=None,
            pagination_class=None)
    def preflight_all(self, request: Request) -> Response:
        """The preflight of every mapping on every instance it targets."""
        return Response([c.as_dict() for c in run_preflight()])

    @extend_schema(request=ApplySerializer, responses={202: JobRunSerializer})
    @action(detail=False, methods=["post"], filterset_class=None, write_role=OPERATOR)
    def apply(self, request: Request) -> Response:
        """Apply every mapping (or ``mapping_ids``) as a job; the job's log has each instance's result.
        Changes of a mapping the preflight finds ineffective on an instance are refused there unless
        ``force`` is true."""
        data: dict[str, Any] = ApplySerializer(data=request.data).run_validation(request.data)
        ids = data.get("mapping_ids")
        if ids is not None and not ids:
            raise serializers.ValidationError({"mapping_ids": "give at least one id, or omit it for every mapping"})
        if ids and TeamMapping.objects.filter(pk__in=ids).count() != len(set(ids)):
            raise serializers.ValidationError({"mapping_ids": "unknown mapping id"})
        job = start_apply(actor=request_actor(request), mapping_ids=ids, force=bool(data.get("force")))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: GroupSerializer(many=True),
                              503: OpenApiResponse(description="harborops' LDAP directory is not configured or "
                                                               "unreachable (`detail` says which)")},
                   parameters=[OpenApiParameter("q", str, description="part of the group's cn")])
    @action(detail=False, methods=["get"], url_path="ldap-groups", filterset_class=None, read_role=OPERATOR,
            pagination_class=None)
    def ldap_groups(self, request: Request) -> Response:
        """Search harborops' LDAP directory for groups (filter values escaped)."""
        query = str(request.query_params.get("q", "")).strip()
        if not query:
            raise serializers.ValidationError({"q": "part of a group name is required"})
        try:
            groups = directory.search_groups(query)
        except directory.DirectoryError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response([asdict(g) for g in groups])


class DriftViewSet(viewsets.ReadOnlyModelViewSet[DriftFinding]):
    """Drift findings of the last check (scheduled, or ``check`` now: a job, operator)."""

    queryset = DriftFinding.objects.select_related("instance").order_by("instance__name", "project_name", "entity")
    serializer_class = DriftFindingSerializer
    filterset_class = DriftFilterSet
    read_role = VIEWER
    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=False, methods=["post"], filterset_class=None, write_role=OPERATOR)
    def check(self, request: Request) -> Response:
        job = start_drift_check(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
