"""The replication API: the same reads and actions as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from harborops.core.api.helpers import request_actor
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.fleet.models import HAGroup
from harborops.harbor import errors as harbor_errors
from harborops.replication import hagroups, pairchecks, pairs, rotate, schedules, services, topology
from harborops.replication.api.serializers import (
    CollectStateSerializer,
    EnabledSerializer,
    ExecutionSerializer,
    MissingArtifactSerializer,
    OwnedScheduleSerializer,
    PairSerializer,
    PairSetupSerializer,
    PolicySerializer,
    RegistrySerializer,
    TaskLogSerializer,
    TopologySerializer,
    TriggeredSerializer,
)
from harborops.replication.filtersets import PolicyFilterSet
from harborops.replication.models import (
    CollectState,
    Execution,
    FailedTask,
    MissingArtifact,
    OwnedSchedule,
    Policy,
    Registry,
)


class HarborFailed(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "Harbor could not do it"
    default_code = "harbor_failed"


class PolicyListView(generics.ListAPIView[Policy]):
    """Replication policies of every instance with their health (filter: health, instance, q, ...)."""

    queryset = Policy.objects.select_related("instance").defer(*hagroups.deferred("instance")).order_by(
        "instance__name", "name")
    serializer_class = PolicySerializer
    filterset_class = PolicyFilterSet


class PolicyDetailView(generics.RetrieveAPIView[Policy]):
    queryset = Policy.objects.select_related("instance")
    serializer_class = PolicySerializer


class PolicyExecutionsView(generics.ListAPIView[Execution]):
    """A policy's collected executions, newest first, with the failed tasks of failed ones."""

    serializer_class = ExecutionSerializer
    filterset_class = None
    queryset = Execution.objects.none()  # for the schema; get_queryset answers

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            return Execution.objects.none()
        policy = get_object_or_404(Policy, pk=self.kwargs["pk"])
        return policy.executions.prefetch_related("failed_tasks").order_by("-start_time", "-harbor_id")


class RegistryListView(generics.ListAPIView[Registry]):
    """Registry endpoints of every instance with the live ping of the last collection."""

    queryset = Registry.objects.select_related("instance").defer(*hagroups.deferred("instance")).order_by(
        "instance__name", "name")
    serializer_class = RegistrySerializer
    filterset_fields = ("instance", "reachable")


class CollectStateListView(generics.ListAPIView[CollectState]):
    queryset = CollectState.objects.select_related("instance").defer(*hagroups.deferred("instance")).order_by(
        "instance__name")
    serializer_class = CollectStateSerializer
    filterset_class = None


class TaskLogView(APIView):
    """A failed task's log, read from Harbor now (502 when Harbor cannot be read)."""

    @extend_schema(responses=TaskLogSerializer, operation_id="replication_task_log")
    def get(self, request: Request, pk: int) -> Response:
        task = get_object_or_404(FailedTask.objects.select_related("execution__instance"), pk=pk)
        try:
            return Response({"log": services.task_log(task)})
        except harbor_errors.HarborError as exc:
            raise HarborFailed(f"Harbor could not be read: {exc.message}") from exc


class TopologyView(APIView):
    """The replication topology: instances (and registries outside the fleet) as nodes with their layout
    positions, policies as edges in the direction the data flows, with health and colour."""

    @extend_schema(responses=TopologySerializer, operation_id="replication_topology")
    def get(self, request: Request) -> Response:
        # as_json() is already the serializer's shape (plain str/int/float/bool); running 10,000 fields of a
        # large fleet through it again cost more than building the graph (TopologySerializer: the schema)
        return Response(topology.build().as_json())


class CollectView(APIView):
    """Collect every enabled instance now (a job)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="replication_collect")
    def post(self, request: Request) -> Response:
        job = services.start_collect(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class PolicyTriggerView(APIView):
    """Start a manual execution of the policy on its Harbor."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={201: TriggeredSerializer}, operation_id="replication_policy_trigger")
    def post(self, request: Request, pk: int) -> Response:
        policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
        try:
            ex_id = services.trigger_policy(policy, actor=request_actor(request))
        except services.ActionFailed as exc:
            raise HarborFailed(str(exc)) from exc
        return Response({"execution_id": ex_id}, status=status.HTTP_201_CREATED)


class PolicyEnabledView(APIView):
    """Enable or disable the policy on its Harbor (nothing else of the policy changes)."""

    write_role = OPERATOR

    @extend_schema(request=EnabledSerializer, responses=PolicySerializer, operation_id="replication_policy_enabled")
    def post(self, request: Request, pk: int) -> Response:
        policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
        body = EnabledSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.set_enabled(policy, body.validated_data["enabled"], actor=request_actor(request))
        except services.ActionFailed as exc:
            raise HarborFailed(str(exc)) from exc
        policy.refresh_from_db()
        return Response(PolicySerializer(policy).data)


class PolicyScheduleView(APIView):
    """The schedule harborops owns for the policy: a beat entry that triggers it, skipped (and logged) while
    an execution of the policy is InProgress on Harbor when ``skip_if_running``."""

    write_role = OPERATOR

    @extend_schema(responses={200: OwnedScheduleSerializer, 404: None}, operation_id="replication_policy_schedule")
    def get(self, request: Request, pk: int) -> Response:
        policy = get_object_or_404(Policy, pk=pk)
        schedule = get_object_or_404(OwnedSchedule, policy=policy)
        return Response(OwnedScheduleSerializer(schedule).data)

    @extend_schema(request=OwnedScheduleSerializer, responses=OwnedScheduleSerializer,
                   operation_id="replication_policy_schedule_set")
    def put(self, request: Request, pk: int) -> Response:
        policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
        body = OwnedScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            schedule = schedules.set_schedule(policy, actor=request_actor(request), **body.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(OwnedScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None}, operation_id="replication_policy_schedule_delete")
    def delete(self, request: Request, pk: int) -> Response:
        policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
        schedules.delete_schedule(policy, actor=request_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExecutionStopView(APIView):
    """Stop an execution on Harbor. Harbor marks it Stopped; what was copied stays (a partial copy)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses=ExecutionSerializer, operation_id="replication_execution_stop")
    def post(self, request: Request, pk: int) -> Response:
        execution = get_object_or_404(Execution.objects.select_related("instance", "policy"), pk=pk)
        try:
            services.stop_execution(execution, actor=request_actor(request))
        except services.ActionFailed as exc:
            raise HarborFailed(str(exc)) from exc
        execution.refresh_from_db()
        return Response(ExecutionSerializer(execution).data)


# --- HA pairs -----------------------------------------------------------------------------------------
def _pair_row(group: HAGroup, data: hagroups.GroupData, *, live: bool = False) -> dict[str, Any]:
    return {"group": group, "pair": data.pairs.get(group.pk), "loop_risks": pairs.loop_risks(group, data),
            "checks": pairchecks.checks(group, live=live, data=data)}


LIVE = OpenApiParameter("live", bool, description="shared storage: read /systeminfo/volumes and harbor.yml (SSH) now")


class PairListView(APIView):
    """HA groups: what harborops set up (two-way replication), consistency, loop risks, and the checks of
    the group's mode from stored data (version skew; shared storage: GC on one member only)."""

    @extend_schema(responses=PairSerializer(many=True), operation_id="replication_pairs")
    def get(self, request: Request) -> Response:
        groups = list(HAGroup.objects.order_by("name"))
        data = hagroups.load(groups)  # every group in a fixed number of queries
        return Response(PairSerializer([_pair_row(g, data) for g in groups], many=True).data)


class PairDetailView(APIView):
    """One HA group; with ``?live=true`` the shared-storage checks read the members now."""

    @extend_schema(responses=PairSerializer, parameters=[LIVE], operation_id="replication_pair")
    def get(self, request: Request, pk: int) -> Response:
        live = str(request.query_params.get("live", "")).lower() in ("1", "true")
        group = get_object_or_404(HAGroup, pk=pk)
        return Response(PairSerializer(_pair_row(group, hagroups.load([group]), live=live)).data)


class PairMissingView(generics.ListAPIView[MissingArtifact]):
    """The last consistency check's report, page by page (filter: missing_on=<instance id>, project)."""

    serializer_class = MissingArtifactSerializer
    filterset_fields = ("missing_on", "project", "kind")
    queryset = MissingArtifact.objects.none()  # for the schema; get_queryset answers

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            return MissingArtifact.objects.none()
        group = get_object_or_404(HAGroup, pk=self.kwargs["pk"])  # a group never checked: an empty report
        qs = MissingArtifact.objects.filter(pair__group=group)
        return qs.select_related("missing_on", "present_on").order_by("pk")


def _pair_job(start: Any) -> Response:
    try:
        job = start()
    except (pairs.PairError, rotate.RotateError) as exc:
        raise serializers.ValidationError({"detail": str(exc)}) from exc
    return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class PairSetupView(APIView):
    """Set up two-way replication for the group (a job; admin: it creates robots)."""

    write_role = ADMIN

    @extend_schema(request=PairSetupSerializer, responses={202: JobRunSerializer},
                   operation_id="replication_pair_setup")
    def post(self, request: Request, pk: int) -> Response:
        group = get_object_or_404(HAGroup, pk=pk)
        body = PairSetupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _pair_job(lambda: pairs.start_setup(group, body.validated_data["projects"],
                                                   actor=request_actor(request)))


class PairTeardownView(APIView):
    """Remove exactly what setup created (a job; admin)."""

    write_role = ADMIN

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="replication_pair_teardown")
    def post(self, request: Request, pk: int) -> Response:
        group = get_object_or_404(HAGroup, pk=pk)
        return _pair_job(lambda: pairs.start_teardown(group, actor=request_actor(request)))


class PairCheckView(APIView):
    """Compare the pair's projects on both members now (a job)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="replication_pair_check")
    def post(self, request: Request, pk: int) -> Response:
        group = get_object_or_404(HAGroup, pk=pk)
        return _pair_job(lambda: pairs.start_check(group, actor=request_actor(request)))


class PairRotateView(APIView):
    """Refresh both robots' secrets on Harbor and update each peer's registry endpoint (a job; admin)."""

    write_role = ADMIN

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="replication_pair_rotate")
    def post(self, request: Request, pk: int) -> Response:
        group = get_object_or_404(HAGroup, pk=pk)
        return _pair_job(lambda: rotate.start_rotate(group, actor=request_actor(request)))
