"""The events API: the same filter, search, export and jobs as the pages."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from harborops.core.api.helpers import request_actor
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.events import services
from harborops.events.api.serializers import (
    ActivitySerializer,
    AnomalySerializer,
    HarborEventSerializer,
    InstanceFiguresSerializer,
    SearchPageSerializer,
    SearchRowSerializer,
)
from harborops.events.export import FORMATS, export_response
from harborops.events.forms import EventFilterForm
from harborops.events.models import HarborEvent, IngestAnomaly
from harborops.events.query import EventFilter, activity, search
from harborops.fleet.models import Instance

FILTER_PARAMS = [
    OpenApiParameter("instance", int, many=True, description="instance id (repeatable)"),
    OpenApiParameter("label", str, description="instance label key=value"),
    OpenApiParameter("user", str), OpenApiParameter("operation", str), OpenApiParameter("resource_type", str),
    OpenApiParameter("resource", str, description="resource starts with"),
    OpenApiParameter("contains", str, description="resource contains"),
    OpenApiParameter("project", str),
    OpenApiParameter("since", OpenApiTypes.DATETIME), OpenApiParameter("until", OpenApiTypes.DATETIME),
    OpenApiParameter("source", str, enum=["all", "harbor", "harborops"]),
]


def _form(request: Request) -> tuple[EventFilter, Any, int]:
    form = EventFilterForm(request.query_params)
    if not form.is_valid():
        raise serializers.ValidationError(form.errors.get_json_data())
    return form.to_filter(), form.cleaned_data.get("cursor"), form.cleaned_data.get("limit") or 50


class EventSearchView(APIView):
    """Harbor events of every instance and harborops' own actions, newest first, keyset-paginated:
    pass ``cursor`` from the previous answer's ``next_cursor`` for the next page."""

    @extend_schema(parameters=[*FILTER_PARAMS, OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
                   responses=SearchPageSerializer, operation_id="events_search")
    def get(self, request: Request) -> Response:
        f, cursor, limit = _form(request)
        page = search(f, cursor=cursor, limit=limit)
        nxt = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            nxt = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"results": SearchRowSerializer(page.rows, many=True).data,
                         "next_cursor": page.next_cursor, "next": nxt})


class EventExportView(APIView):
    """The whole result of a filter, streamed as CSV or JSON Lines."""

    @extend_schema(parameters=FILTER_PARAMS, responses={(200, "text/csv"): OpenApiTypes.STR},
                   operation_id="events_export")
    def get(self, request: Request, fmt: str) -> HttpResponseBase:
        if fmt not in FORMATS:
            raise Http404("unknown export format")
        f, _, _ = _form(request)
        return export_response(f, fmt)


class EventDetailView(APIView):
    @extend_schema(responses=HarborEventSerializer, operation_id="events_harbor_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(HarborEventSerializer(get_object_or_404(HarborEvent, pk=pk)).data)


class ActivityView(APIView):
    """Events per day by operation for a filter (the last 30 days unless ``since`` is given)."""

    @extend_schema(parameters=FILTER_PARAMS, responses=ActivitySerializer(many=True), operation_id="events_activity")
    def get(self, request: Request) -> Response:
        f, _, _ = _form(request)
        points = [{"day": d, "operation": op, "count": n} for d, op, n in activity(f)]
        return Response(ActivitySerializer(points, many=True).data)


class InstanceFiguresView(generics.ListAPIView[Instance]):
    """Stored events, cursors, last ingest and syslog forwarding per instance, by name, paginated
    (``limit`` / ``offset``) like every other list."""

    queryset = Instance.objects.order_by("name").defer("password")
    serializer_class = InstanceFiguresSerializer

    @extend_schema(operation_id="events_instances")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        instances = list(self.get_queryset()) if page is None else page
        data = self.get_serializer(services.instance_figures(instances), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class AnomalyListView(APIView):
    @extend_schema(responses=AnomalySerializer(many=True), operation_id="events_anomalies")
    def get(self, request: Request) -> Response:
        return Response(AnomalySerializer(IngestAnomaly.objects.all()[:200], many=True).data)


class InstanceIngestView(APIView):
    """Ingest one instance now (a job)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="events_instance_ingest")
    def post(self, request: Request, pk: int) -> Response:
        job = services.start_ingest(actor=request_actor(request), instance=get_object_or_404(Instance, pk=pk))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class InstanceBackfillView(APIView):
    """Pull an instance's whole history (a long job with progress)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="events_instance_backfill")
    def post(self, request: Request, pk: int) -> Response:
        job = services.start_backfill(get_object_or_404(Instance, pk=pk), actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class FleetIngestView(APIView):
    """Ingest every enabled instance now (a job)."""

    write_role = OPERATOR

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="events_ingest_all")
    def post(self, request: Request) -> Response:
        job = services.start_ingest(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class PurgeView(APIView):
    """Delete stored events older than HARBOROPS_EVENTS_RETENTION_DAYS now (a job; admin)."""

    write_role = ADMIN

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="events_purge")
    def post(self, request: Request) -> Response:
        job = services.start_purge(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
