from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core.api.helpers import request_actor, service_errors
from harborops.core.api.serializers import JobRunSerializer
from harborops.core.roles import ADMIN, OPERATOR
from harborops.installs import installers, services
from harborops.installs.api.serializers import (
    InstallerCreateSerializer,
    InstallerSerializer,
    InstallSerializer,
    StartSerializer,
)
from harborops.installs.models import Install, Installer


class InstallerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet[Installer]):
    """Installer bundles. Upload (multipart ``installer``, streamed to disk in chunks) or register a
    URL the host fetches; admin only."""

    queryset = Installer.objects.all()
    serializer_class = InstallerSerializer
    write_role = ADMIN

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything (authentication's CSRF check included) reads the body.
        if request.method == "POST" and request.content_type == "multipart/form-data":
            request.upload_handlers = [installers.InstallerUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(request=InstallerCreateSerializer, responses={201: InstallerSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not hasattr(request.data, "get"):  # a JSON array or scalar, not an object
            raise serializers.ValidationError({"non_field_errors": ["send an object: url and checksum, or a file"]})
        upload = request.FILES.get(installers.UPLOAD_FIELD) if request.FILES else None
        checksum = str(request.data.get("checksum", "") or "")
        with service_errors():
            if isinstance(upload, installers.StoredUpload):
                installer = installers.save_upload(upload, actor=request_actor(request), checksum=checksum)
            elif request.data.get("url"):
                data: dict[str, Any] = InstallerCreateSerializer().run_validation(
                    {"url": request.data.get("url"), "checksum": checksum})
                installer = installers.add_url(actor=request_actor(request), url=data["url"], checksum=data["checksum"])
            else:
                raise serializers.ValidationError({"installer": "upload a file or give a url"})
        return Response(InstallerSerializer(installer).data, status=status.HTTP_201_CREATED)


class InstallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet[Install]):
    """Harbor installs over SSH. Defining and deleting an install needs admin (it creates fleet
    credentials); starting or retrying its job needs operator."""

    queryset = Install.objects.select_related("installer").prefetch_related("targets__host").order_by("-created_at")
    serializer_class = InstallSerializer
    write_role = ADMIN

    def perform_create(self, serializer: InstallSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        hosts = [(entry["host"], entry["hostname"] or entry["host"].address) for entry in data.pop("hosts")]
        with service_errors():
            serializer.instance = services.create_install(actor=request_actor(self.request), hosts=hosts, **data)

    def perform_destroy(self, instance: Install) -> None:
        with service_errors():
            services.delete_install(instance, actor=request_actor(self.request))

    @extend_schema(request=StartSerializer, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Start the install job, or retry it: steps already done are skipped (so it continues at the
        failed step); ``from_step`` re-runs that step and every later one."""
        data: dict[str, Any] = StartSerializer().run_validation(request.data or {})
        with service_errors():
            job = services.start_install(self.get_object(), actor=request_actor(request), from_step=data["from_step"])
        return Response(JobRunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
