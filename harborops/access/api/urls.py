from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.access.api.views import DriftViewSet, MappingViewSet

app_name = "access-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("access/mappings", MappingViewSet, basename="mapping")
router.register("access/drift", DriftViewSet, basename="drift")
urlpatterns = router.urls
