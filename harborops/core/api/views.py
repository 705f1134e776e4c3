from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.core import login_throttle, services
from harborops.core.actor import Actor
from harborops.core.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    JobLogLineSerializer,
    JobRunSerializer,
    LoginLockoutSerializer,
)
from harborops.core.jobs import request_cancel
from harborops.core.models import ApiToken, JobLogLine, JobRun, LoginFailureCounter
from harborops.core.roles import ADMIN, VIEWER, role_of


class JobRunFilterSet(django_filters.FilterSet):
    class Meta:
        model = JobRun
        fields = ("status", "kind", "trigger", "target_id")


class JobRunViewSet(viewsets.ReadOnlyModelViewSet[JobRun]):
    queryset = JobRun.objects.all()
    serializer_class = JobRunSerializer
    filterset_class = JobRunFilterSet

    @extend_schema(request=None, responses=JobRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = request_cancel(self.get_object(), actor=Actor.from_request(request._request))
        return Response(JobRunSerializer(job).data)

    @extend_schema(parameters=[OpenApiParameter("after", int, description="only lines after this seq")],
                   responses=JobLogLineSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def log(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0
        lines = JobLogLine.objects.filter(job=job, seq__gt=after).order_by("seq")[:5000]
        return Response(JobLogLineSerializer(lines, many=True).data)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet[ApiToken]):
    """Your own API tokens. Any role may manage its own tokens."""

    serializer_class = ApiTokenSerializer
    write_role = VIEWER
    filterset_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user_id=self.request.user.pk or 0)

    @extend_schema(responses={201: ApiTokenCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.issue_token(actor=Actor.from_request(request._request), user=request.user,  # type: ignore[arg-type]
                                          name=serializer.validated_data["name"])
        data = ApiTokenSerializer(token).data | {"key": key}
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(actor=Actor.from_request(self.request._request), token=instance)


@extend_schema(responses={200: dict})
@api_view(["GET"])
def me(request: Request) -> Response:
    user = request.user
    return Response({"username": user.get_username(), "role": role_of(user)})


class LoginLockoutViewSet(viewsets.ReadOnlyModelViewSet[LoginFailureCounter]):
    """Active login lockouts (admin); ``clear`` lets the next login attempt through."""

    serializer_class = LoginLockoutSerializer
    filterset_class = None
    read_role = ADMIN
    write_role = ADMIN

    def get_queryset(self) -> QuerySet[LoginFailureCounter]:
        return login_throttle.active_lockouts()

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def clear(self, request: Request, pk: str | None = None) -> Response:
        login_throttle.clear(self.get_object(), actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
