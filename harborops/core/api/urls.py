from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from harborops.core.api import views

app_name = "core-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("jobs", views.JobRunViewSet, basename="job")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("login-lockouts", views.LoginLockoutViewSet, basename="login-lockout")
urlpatterns = [path("me/", views.me, name="me"), *router.urls]
