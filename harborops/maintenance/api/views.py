from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.fleet.models import Instance
from harborops.maintenance.api.serializers import (
    GCPolicySerializer,
    GCStepSerializer,
    InstanceRowSerializer,
    OfflineTargetSerializer,
)
from harborops.maintenance.models import GCPolicy, GCStep, OfflineTarget
from harborops.maintenance.services import policies, runs, targets
from harborops.maintenance.services.watchdog import overview
from harborops.maintenance.tasks import start_check, start_set_schedules


class GCPolicyViewSet(viewsets.ModelViewSet[GCPolicy]):
    """GC policies. Viewers read; admins create, change and delete; operators run them and set
    Harbor's schedules from them (both jobs)."""

    queryset = GCPolicy.objects.prefetch_related("instances", "offline_targets").select_related("periodic_task")
    serializer_class = GCPolicySerializer
    write_role = ADMIN
    filterset_fields = ("enabled", "targets")

    def perform_create(self, serializer: GCPolicySerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        instances, offline = data.pop("instances", ()), data.pop("offline_targets", ())
        with service_errors():
            serializer.instance = policies.create_policy(actor=request_actor(self.request), instances=instances,
                                                         offline_targets=offline, **data)

    def perform_update(self, serializer: GCPolicySerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        data = dict(serializer.validated_data)
        instances, offline = data.pop("instances", None), data.pop("offline_targets", None)
        with service_errors():
            serializer.instance = policies.update_policy(serializer.instance, actor=request_actor(self.request),
                                                         instances=instances, offline_targets=offline, **data)

    def perform_destroy(self, instance: GCPolicy) -> None:
        policies.delete_policy(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def run(self, request: Request, pk: str | None = None) -> Response:
        """Start a GC run of this policy now (a job with one step per instance)."""
        with service_errors():
            job = runs.start_run(self.get_object(), actor=request_actor(request), trigger="api")
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], url_path="set-schedules", write_role=OPERATOR)
    def set_schedules(self, request: Request, pk: str | None = None) -> Response:
        """Set Harbor's own GC schedule (the policy's harbor_cron) on every target (a job)."""
        with service_errors():
            job = start_set_schedules(self.get_object(), actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GCStepViewSet(viewsets.ReadOnlyModelViewSet[GCStep]):
    """The per-instance steps of GC runs (filter ``job`` for one run), each with its log."""

    queryset = GCStep.objects.order_by("-job_id", "position", "pk")
    serializer_class = GCStepSerializer
    filterset_fields = ("job", "instance", "status")


class GCFleetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Any]):
    """Every enabled instance's GC state: Harbor's schedule and newest runs, the policy's expected
    schedule, drift and the watchdog's findings."""

    serializer_class = InstanceRowSerializer
    write_role = OPERATOR
    pagination_class = None
    filterset_class = None

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database access
            return Instance.objects.none()
        return overview()

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        """Read every instance's GC schedule and history now (a job)."""
        job = start_check(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class OfflineTargetViewSet(viewsets.ModelViewSet[OfflineTarget]):
    """Registries collected offline over SSH (stop, garbage-collect, start, verify). Viewers read;
    admins manage them; runs go through a policy."""

    queryset = OfflineTarget.objects.select_related("host", "instance")
    serializer_class = OfflineTargetSerializer
    write_role = ADMIN
    filterset_fields = ("stop_mode",)

    def perform_create(self, serializer: OfflineTargetSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = targets.create_target(actor=request_actor(self.request), **serializer.validated_data)

    def perform_update(self, serializer: OfflineTargetSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        with service_errors():
            serializer.instance = targets.update_target(serializer.instance, actor=request_actor(self.request),
                                                        **serializer.validated_data)

    def perform_destroy(self, instance: OfflineTarget) -> None:
        targets.delete_target(instance, actor=request_actor(self.request))
