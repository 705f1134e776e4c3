from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.fleet.api.views import HAGroupViewSet, InstanceViewSet, SweepRunViewSet

app_name = "fleet-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("fleet/instances", InstanceViewSet, basename="instance")
router.register("fleet/ha-groups", HAGroupViewSet, basename="hagroup")
router.register("fleet/sweep-runs", SweepRunViewSet, basename="sweeprun")
urlpatterns = router.urls
