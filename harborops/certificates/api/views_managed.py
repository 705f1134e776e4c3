"""API of the managed-host side: certificate files read over SSH, rotations, and the conditions."""

from __future__ import annotations

from typing import Any

from django.utils.timezone import now
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.certificates.api.serializers import (
    DeploymentSerializer,
    DiskFileSerializer,
    OccurrenceSerializer,
    RenewSerializer,
    RotateSerializer,
)
from harborops.certificates.conditions import TITLES, attention
from harborops.certificates.models import Deployment, DiskFile
from harborops.certificates.services import rotation
from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.roles import ADMIN


class DiskFileViewSet(viewsets.ReadOnlyModelViewSet[DiskFile]):
    """Certificate files on hosts harborops manages (read with each scan over SSH): ``harbor.yml``'s
    https certificate and key, and the internal TLS directory. ``matches_served`` false means the file
    was renewed without ``./prepare`` and a restart."""

    queryset = DiskFile.objects.select_related("target__host", "target__install", "target__instance").order_by(
        "target", "kind", "path")
    serializer_class = DiskFileSerializer
    filterset_fields = ("kind", "matches_served", "key_matches", "target__instance")


class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Deployment]):
    """Rotations of managed instances (jobs). Starting one (``POST`` with an instance and an issued
    certificate) or renewing from the managed CA needs admin; the job log is on ``/api/jobs/<job>/``."""

    queryset = Deployment.objects.select_related("issued").order_by("-created_at", "-pk")
    serializer_class = DeploymentSerializer
    filterset_fields = ("instance", "status")
    write_role = ADMIN

    @extend_schema(request=RotateSerializer, responses={202: DeploymentSerializer})
    def create(self, request: Request) -> Response:
        data: dict[str, Any] = RotateSerializer(data=request.data).run_validation(request.data)
        instance, issued = data["instance_id"], data["issued_id"]
        with service_errors():
            deployment = rotation.start_rotation(actor=request_actor(request), instance=instance, issued=issued)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RenewSerializer, responses={202: DeploymentSerializer},
                   operation_id="certificates_rotations_renew")
    @action(detail=False, methods=["post"])
    def renew(self, request: Request) -> Response:
        data: dict[str, Any] = RenewSerializer(data=request.data).run_validation(request.data)
        instance = data["instance_id"]
        with service_errors():
            deployment = rotation.renew(actor=request_actor(request), instance=instance)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_202_ACCEPTED)


class AttentionViewSet(viewsets.ViewSet):
    """The certificate alert conditions now (what the expiry page's "Needs attention" shows), most
    severe first; the alerts app evaluates the same source on its schedule."""

    serializer_class = OccurrenceSerializer

    @extend_schema(responses={200: OccurrenceSerializer(many=True)}, operation_id="certificates_attention_list")
    def list(self, request: Request) -> Response:
        rows = [{"condition": o.condition, "title": TITLES[o.condition], "subject": o.subject, "severity": o.severity,
                 "summary": o.summary, "details": o.details, "link": o.link, "instance_id": o.instance_id,
                 "labels": o.labels} for o in attention(now())]
        return Response(OccurrenceSerializer(rows, many=True).data)
