from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.fleet.api.serializers import (
    ConnectionTestSerializer,
    HAGroupSerializer,
    HealthSnapshotSerializer,
    ImportResultSerializer,
    ImportSerializer,
    InstanceSerializer,
    StatusChangeSerializer,
    SweepFreshnessSerializer,
    SweepRunSerializer,
)
from harborops.fleet.filtersets import InstanceFilterSet
from harborops.fleet.models import HAGroup, HealthSnapshot, Instance, StatusChange, SweepRun
from harborops.fleet.services import ha_groups, importer, inventory, sweep_runs
from harborops.fleet.tasks import start_sweep


class InstanceViewSet(viewsets.ModelViewSet[Instance]):
    """Harbor instances. Reading needs viewer; adding, changing and deleting instances (and their
    credentials) needs admin; a sweep needs operator."""

    queryset = Instance.objects.select_related("ha_group").order_by("name")
    serializer_class = InstanceSerializer
    filterset_class = InstanceFilterSet
    write_role = ADMIN

    def perform_create(self, serializer: InstanceSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = inventory.create_instance(actor=request_actor(self.request),
                                                            **serializer.validated_data)

    def perform_update(self, serializer: InstanceSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        with service_errors():
            serializer.instance = inventory.update_instance(serializer.instance, actor=request_actor(self.request),
                                                            **serializer.validated_data)

    def perform_destroy(self, instance: Instance) -> None:
        inventory.delete_instance(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def sweep(self, request: Request, pk: str | None = None) -> Response:
        job = start_sweep(actor=request_actor(request), instance=self.get_object())
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="fleet_instances_sweep_all")
    @action(detail=False, methods=["post"], url_path="sweep", url_name="sweep-all", write_role=OPERATOR)
    def sweep_all(self, request: Request) -> Response:
        job = start_sweep(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=HealthSnapshotSerializer(many=True))
    @action(detail=True, methods=["get"], filterset_class=None)
    def snapshots(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(HealthSnapshot.objects.filter(instance=self.get_object()).order_by("-taken_at"))  # type: ignore[arg-type]
        return self.get_paginated_response(HealthSnapshotSerializer(page, many=True).data)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="status-changes", filterset_class=None)
    def status_changes(self, request: Request, pk: str | None = None) -> Response:
        page = self.paginate_queryset(StatusChange.objects.filter(instance=self.get_object()).order_by("-at"))  # type: ignore[arg-type]
        return self.get_paginated_response(StatusChangeSerializer(page, many=True).data)

    @extend_schema(request=ConnectionTestSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="test-connection", filterset_class=None)
    def test_connection(self, request: Request) -> Response:
        """Says exactly what is wrong: DNS, refused, timeout, TLS (with the presented certificate),
        401, not a Harbor, unsupported version."""
        data: dict[str, Any] = ConnectionTestSerializer(data=request.data).run_validation(request.data)
        check = inventory.check_connection(data["url"], data["username"], data["password"], data["ca_bundle"])
        return Response(asdict(check))

    @extend_schema(request=ImportSerializer, responses={
        200: ImportResultSerializer,
        400: OpenApiResponse(description="invalid input, or rows with errors: then the import result (the 200 "
                                         "fields, `applied` false: nothing was changed)")})
    @action(detail=False, methods=["post"], url_path="import", url_name="import", filterset_class=None)
    def bulk_import(self, request: Request) -> Response:
        """CSV or YAML; all rows or none (400 with per-row errors). ``dry_run`` checks only."""
        data: dict[str, Any] = ImportSerializer(data=request.data).run_validation(request.data)
        try:
            rows = importer.parse(data["content"], data.get("format", ""))
        except ValueError as exc:
            raise serializers.ValidationError({"content": [str(exc)]}) from None
        result = importer.import_instances(rows, actor=request_actor(request), dry_run=data.get("dry_run", False))
        return Response(asdict(result), status=status.HTTP_400_BAD_REQUEST if result.errors else status.HTTP_200_OK)


class HAGroupViewSet(viewsets.ModelViewSet[HAGroup]):
    """HA groups: two or more instances serving one hostname. Viewer reads; admin writes."""

    queryset = HAGroup.objects.prefetch_related("instances").order_by("name")
    serializer_class = HAGroupSerializer
    write_role = ADMIN
    filterset_fields = ("mode",)

    def perform_create(self, serializer: HAGroupSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        members = data.pop("instances")
        with service_errors():
            serializer.instance = ha_groups.create_group(actor=request_actor(self.request), members=members, **data)

    def perform_update(self, serializer: HAGroupSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        data = dict(serializer.validated_data)
        members = data.pop("instances", None)
        with service_errors():
            serializer.instance = ha_groups.update_group(serializer.instance, actor=request_actor(self.request),
                                                         members=members, **data)

    def perform_destroy(self, instance: HAGroup) -> None:
        ha_groups.delete_group(instance, actor=request_actor(self.request))


class SweepRunViewSet(viewsets.ReadOnlyModelViewSet[SweepRun]):
    """Fleet sweeps, newest first (scheduled and "sweep all now"), with per-chunk timings;
    ``latest/`` says how old the last complete one is and whether it is stale. Viewer."""

    queryset = SweepRun.objects.prefetch_related("chunks").order_by("-started_at", "-pk")
    serializer_class = SweepRunSerializer

    @extend_schema(responses={200: SweepFreshnessSerializer}, operation_id="fleet_sweep_runs_latest")
    @action(detail=False, methods=["get"], url_path="latest", url_name="latest")
    def latest(self, request: Request) -> Response:
        fresh = sweep_runs.freshness()
        ctx = self.get_serializer_context()
        return Response({
            "last": SweepRunSerializer(fresh.last, context=ctx).data if fresh.last else None,
            "current": SweepRunSerializer(fresh.current, context=ctx).data if fresh.current else None,
            "age_seconds": fresh.age.total_seconds() if fresh.age is not None else None,
            "interval_seconds": fresh.interval.total_seconds() if fresh.interval is not None else None,
            "stale": fresh.stale,
            "incomplete": SweepRunSerializer(fresh.incomplete, context=ctx).data if fresh.incomplete else None,
        })
