from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response

from harborops.alerts.api.serializers import (
    AckSerializer,
    AlertDetailSerializer,
    AlertSerializer,
    AttentionSerializer,
    ChannelSerializer,
    NotificationSerializer,
    RouteSerializer,
    SilenceSerializer,
)
from harborops.alerts.filtersets import AlertFilterSet
from harborops.alerts.models import Alert, Channel, Route, Silence
from harborops.alerts.services import actions
from harborops.alerts.services.attention import attention
from harborops.core.api.helpers import request_actor, service_errors, validation_error
from harborops.core.roles import ADMIN, OPERATOR


class AlertViewSet(viewsets.ReadOnlyModelViewSet[Alert]):
    """Alerts (filter ``state=open`` for firing + acknowledged). Operators acknowledge."""

    queryset = Alert.objects.select_related("instance").order_by("-last_seen", "-pk")
    lookup_value_regex = r"\d+"
    filterset_class = AlertFilterSet
    write_role = OPERATOR

    def get_serializer_class(self) -> Any:
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    @extend_schema(request=AckSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def ack(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledge a firing alert (no more reminders; the recovery notice still goes out)."""
        body = AckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with service_errors():
            alert = actions.acknowledge(self.get_object(), actor=request_actor(request),
                                        comment=body.validated_data["comment"])
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def unack(self, request: Request, pk: str | None = None) -> Response:
        with service_errors():
            alert = actions.unacknowledge(self.get_object(), actor=request_actor(request))
        return Response(AlertSerializer(alert).data)


class SilenceViewSet(viewsets.ModelViewSet[Silence]):
    """Silences: matching alerts notify nobody while active. Operators manage them."""

    queryset = Silence.objects.select_related("instance")
    serializer_class = SilenceSerializer
    write_role = OPERATOR
    filterset_fields = ("instance", "condition")

    def perform_create(self, serializer: SilenceSerializer) -> None:  # type: ignore[override]
        with service_errors():
            serializer.instance = actions.create_silence(actor=request_actor(self.request), **serializer.validated_data)

    def perform_update(self, serializer: SilenceSerializer) -> None:  # type: ignore[override]
        assert serializer.instance is not None
        with service_errors():
            serializer.instance = actions.update_silence(serializer.instance, actor=request_actor(self.request),
                                                         **serializer.validated_data)

    def perform_destroy(self, instance: Silence) -> None:
        actions.delete_silence(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={200: SilenceSerializer})
    @action(detail=True, methods=["post"])
    def expire(self, request: Request, pk: str | None = None) -> Response:
        silence = actions.expire_silence(self.get_object(), actor=request_actor(request))
        return Response(SilenceSerializer(silence).data)


class RouteViewSet(viewsets.ModelViewSet[Route]):
    """Routes (ordered by position) from alerts to channels. Admins manage them."""

    queryset = Route.objects.prefetch_related("channels")
    serializer_class = RouteSerializer
    write_role = ADMIN
    filterset_fields = ("enabled", "is_default")

    def _save(self, serializer: RouteSerializer, route: Route | None) -> None:
        data = dict(serializer.validated_data)
        channels = data.pop("channels", None)
        try:
            serializer.instance = actions.save_route(route, actor=request_actor(self.request), channels=channels,
                                                     **data)
        except DjangoValidationError as exc:
            raise validation_error(exc) from None

    def perform_create(self, serializer: RouteSerializer) -> None:  # type: ignore[override]
        self._save(serializer, None)

    def perform_update(self, serializer: RouteSerializer) -> None:  # type: ignore[override]
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance: Route) -> None:
        actions.delete_route(instance, actor=request_actor(self.request))


class ChannelViewSet(viewsets.ModelViewSet[Channel]):
    """Notification channels (email, webhook, Alertmanager). Admins manage them; URL and secret are
    write-only. ``POST …/test/`` (operator) queues a test notification."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    write_role = ADMIN
    filterset_fields = ("kind", "enabled")

    def _save(self, serializer: ChannelSerializer, channel: Channel | None) -> None:
        data = dict(serializer.validated_data)
        secret = data.pop("secret", None)
        if channel is not None and "url" in data and not data["url"]:
            data["url"] = None  # blank on update keeps the stored URL
        with service_errors():
            serializer.instance = actions.save_channel(channel, actor=request_actor(self.request), secret=secret,
                                                       **data)

    def perform_create(self, serializer: ChannelSerializer) -> None:  # type: ignore[override]
        self._save(serializer, None)

    def perform_update(self, serializer: ChannelSerializer) -> None:  # type: ignore[override]
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance: Channel) -> None:
        actions.delete_channel(instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={202: NotificationSerializer})
    @action(detail=True, methods=["post"], write_role=OPERATOR)
    def test(self, request: Request, pk: str | None = None) -> Response:
        n = actions.send_test(self.get_object(), actor=request_actor(request))
        return Response(NotificationSerializer(n).data, status=status.HTTP_202_ACCEPTED)




@extend_schema(responses={200: AttentionSerializer})
@api_view(["GET"])
def attention_view(request: Request) -> Response:
    """What needs attention now (the home page's data): open alerts by severity, fleet tiles
    (debounced), next certificate expiries, failing replications, overdue GC, recent jobs."""
    return Response(AttentionSerializer(attention()).data)
