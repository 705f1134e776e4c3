from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from harborops.alerts.api import views

app_name = "alerts-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("alerts/silences", views.SilenceViewSet, basename="silence")
router.register("alerts/routes", views.RouteViewSet, basename="route")
router.register("alerts/channels", views.ChannelViewSet, basename="channel")
router.register("alerts", views.AlertViewSet, basename="alert")
urlpatterns = [path("attention/", views.attention_view, name="attention"), *router.urls]
