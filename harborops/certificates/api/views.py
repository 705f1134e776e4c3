from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.certificates.api.serializers import (
    CACreateSerializer,
    CAImportSerializer,
    CertificateSerializer,
    EndpointDetailSerializer,
    EndpointSerializer,
    ExpirySerializer,
    IssuedCertificateSerializer,
    IssueSerializer,
    KeyExportSerializer,
    ManagedCASerializer,
    PullingHostSerializer,
    TrustPushSerializer,
    TrustStateSerializer,
)
from harborops.certificates.filtersets import EndpointFilterSet, ExpiryFilterSet
from harborops.certificates.models import (
    Certificate,
    ChainEntry,
    Endpoint,
    IssuedCertificate,
    ManagedCA,
    PullingHost,
    TrustState,
)
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import endpoints as services
from harborops.certificates.services import trust as trust_services
from harborops.certificates.tasks import start_scan, start_trust_check, start_trust_push
from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR


class EndpointViewSet(viewsets.ModelViewSet[Endpoint]):
    """TLS endpoints. Reading needs viewer; adding, changing and removing endpoints needs admin; a scan
    (a job) needs operator. The detail carries the presented chain and the history of server certificates."""

    queryset = Endpoint.objects.select_related("leaf", "instance").order_by("label", "host", "port")
    serializer_class = EndpointSerializer
    filterset_class = EndpointFilterSet
    write_role = ADMIN

    def get_serializer_class(self) -> Any:
        return EndpointDetailSerializer if self.action == "retrieve" else EndpointSerializer

    def perform_create(self, serializer: EndpointSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = services.create_endpoint(actor=request_actor(self.request),
                                                           **serializer.validated_data)

    def perform_update(self, serializer: EndpointSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        with service_errors():
            serializer.instance = services.update_endpoint(serializer.instance, actor=request_actor(self.request),
                                                           **serializer.validated_data)

    def perform_destroy(self, instance: Endpoint) -> None:
        with service_errors():
            services.delete_endpoint(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def scan(self, request: Request, pk: str | None = None) -> Response:
        job = start_scan(actor=request_actor(request), endpoint=self.get_object())
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="certificates_endpoints_scan_all")
    @action(detail=False, methods=["post"], url_path="scan", url_name="scan-all", write_role=OPERATOR)
    def scan_all(self, request: Request) -> Response:
        job = start_scan(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class CertificateViewSet(viewsets.ReadOnlyModelViewSet[Certificate]):
    """Every certificate ever seen on an endpoint, by SHA-256 fingerprint."""

    queryset = Certificate.objects.order_by("not_after", "pk")
    serializer_class = CertificateSerializer
    filterset_fields = ("fingerprint", "common_name", "is_ca", "self_signed")


class ExpiryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[ChainEntry]):
    """What the expiry page shows: each certificate an enabled endpoint presents now, soonest expiry first;
    filters ``label``, ``instance``, ``issuer``, ``band`` (expired, 7, 30, 90, ok), ``leaf_only``."""

    queryset = (ChainEntry.objects.filter(endpoint__enabled=True).select_related("certificate", "endpoint")
                .order_by("certificate__not_after", "endpoint__label", "position"))
    serializer_class = ExpirySerializer
    filterset_class = ExpiryFilterSet


class ManagedCAViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                       viewsets.GenericViewSet[ManagedCA]):
    """Managed CAs. Reading (and the CA certificate) needs viewer; creating, importing, issuing, exporting
    a key and removing need admin. Private keys are write-only; an export is in the action log."""

    queryset = ManagedCA.objects.order_by("name")
    serializer_class = ManagedCASerializer
    write_role = ADMIN

    @extend_schema(request=CACreateSerializer, responses={201: ManagedCASerializer})
    def create(self, request: Request) -> Response:
        data: dict[str, Any] = CACreateSerializer(data=request.data).run_validation(request.data)
        with service_errors():
            ca = ca_services.create_ca(actor=request_actor(request), **data)
        return Response(ManagedCASerializer(ca).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ManagedCA) -> None:
        with service_errors():
            ca_services.delete_ca(instance, actor=request_actor(self.request))

    @extend_schema(request=CAImportSerializer, responses={201: ManagedCASerializer},
                   operation_id="certificates_cas_import")
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_ca(self, request: Request) -> Response:
        data: dict[str, Any] = CAImportSerializer(data=request.data).run_validation(request.data)
        with service_errors():
            ca = ca_services.import_ca(actor=request_actor(request), **data)
        return Response(ManagedCASerializer(ca).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=IssueSerializer, responses={201: IssuedCertificateSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str | None = None) -> Response:
        data: dict[str, Any] = IssueSerializer(data=request.data).run_validation(request.data)
        with service_errors():
            issued = ca_services.issue_certificate(self.get_object(), actor=request_actor(request), **data)
        return Response(IssuedCertificateSerializer(issued).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: KeyExportSerializer}, operation_id="certificates_cas_export_key")
    @action(detail=True, methods=["post"], url_path="export-key", url_name="export-key")
    def export_key(self, request: Request, pk: str | None = None) -> Response:
        with service_errors():
            key = ca_services.export_ca_key(self.get_object(), actor=request_actor(request))
        return Response({"private_key": key})


class IssuedCertificateViewSet(viewsets.ReadOnlyModelViewSet[IssuedCertificate]):
    """Server certificates issued by managed CAs, with their chain; the key only through ``export-key`` (admin)."""

    queryset = IssuedCertificate.objects.select_related("ca").order_by("-created_at", "-pk")
    serializer_class = IssuedCertificateSerializer
    filterset_fields = ("ca", "hostname", "fingerprint")
    write_role = ADMIN

    @extend_schema(request=None, responses={200: KeyExportSerializer},
                   operation_id="certificates_issued_export_key")
    @action(detail=True, methods=["post"], url_path="export-key", url_name="export-key")
    def export_key(self, request: Request, pk: str | None = None) -> Response:
        bundle = ca_services.export_issued_key(self.get_object(), actor=request_actor(request))
        return Response({"private_key": bundle})


class PullingHostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.DestroyModelMixin, viewsets.GenericViewSet[PullingHost]):
    """Pulling hosts of the trust matrix (an SSH host and its runtime). Admins add and remove them."""

    queryset = PullingHost.objects.select_related("host").order_by("host__name", "runtime")
    serializer_class = PullingHostSerializer
    write_role = ADMIN

    def perform_create(self, serializer: PullingHostSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = trust_services.create_pulling_host(actor=request_actor(self.request),
                                                                     **serializer.validated_data)

    def perform_destroy(self, instance: PullingHost) -> None:
        trust_services.delete_pulling_host(instance, actor=request_actor(self.request))


class TrustViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[TrustState]):
    """The trust matrix as cells (filter by ``pulling_host``, ``endpoint``, ``state``); push and check are jobs
    (operator)."""

    queryset = TrustState.objects.order_by("pulling_host", "endpoint")
    serializer_class = TrustStateSerializer
    filterset_fields = ("pulling_host", "endpoint", "state")
    write_role = OPERATOR

    @extend_schema(request=TrustPushSerializer, responses={202: JobRunSerializer},
                   operation_id="certificates_trust_push")
    @action(detail=False, methods=["post"])
    def push(self, request: Request) -> Response:
        data: dict[str, Any] = TrustPushSerializer(data=request.data).run_validation(request.data)
        hosts = data["pulling_hosts"] or list(PullingHost.objects.values_list("pk", flat=True))
        endpoints = data["endpoints"] or [e.pk for e in trust_services.trust_endpoints()]
        if not hosts or not endpoints:
            raise ValidationError({"detail": "nothing to push: no pulling host, or no endpoint with a trust CA"})
        job = start_trust_push(actor=request_actor(request), pulling_ids=hosts, endpoint_ids=endpoints)
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: JobRunSerializer}, operation_id="certificates_trust_check")
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        job = start_trust_check(actor=request_actor(request))
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
