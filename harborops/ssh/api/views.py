from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.ssh import services
from harborops.ssh.api.serializers import AcceptKeySerializer, KeyScanSerializer, SSHHostSerializer
from harborops.ssh.models import SSHHost
from harborops.ssh.tasks import start_check


class SSHHostViewSet(viewsets.ModelViewSet[SSHHost]):
    """SSH hosts. Reading needs viewer; hosts, keys and host-key decisions need admin; a check
    (a job) needs operator."""

    queryset = SSHHost.objects.order_by("name")
    serializer_class = SSHHostSerializer
    write_role = ADMIN
    filterset_fields = ("role", "address")

    def perform_create(self, serializer: SSHHostSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = services.create_host(actor=request_actor(self.request), **serializer.validated_data)

    def perform_update(self, serializer: SSHHostSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        with service_errors():
            serializer.instance = services.update_host(serializer.instance, actor=request_actor(self.request),
                                                       **serializer.validated_data)

    def perform_destroy(self, instance: SSHHost) -> None:
        with service_errors():
            services.delete_host(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={200: KeyScanSerializer})
    @action(detail=True, methods=["post"], url_path="scan-key")
    def scan_key(self, request: Request, pk: str | None = None) -> Response:
        """Read the key the host presents now and record it as offered (never pins it)."""
        scan = services.scan_host_key(self.get_object(), actor=request_actor(request))
        return Response(asdict(scan))

    @extend_schema(request=AcceptKeySerializer, responses={200: SSHHostSerializer})
    @action(detail=True, methods=["post"], url_path="accept-key")
    def accept_key(self, request: Request, pk: str | None = None) -> Response:
        """Pin the offered key; the fingerprint must be exactly the offered one."""
        data: dict[str, Any] = AcceptKeySerializer(data=request.data).run_validation(request.data)
        with service_errors():
            host = services.accept_host_key(self.get_object(), actor=request_actor(request),
                                            fingerprint=data["fingerprint"])
        return Response(SSHHostSerializer(host).data)

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def check(self, request: Request, pk: str | None = None) -> Response:
        job = start_check(actor=request_actor(request), host=self.get_object())
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
