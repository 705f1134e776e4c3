from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.installs.api.views import InstallerViewSet, InstallViewSet

app_name = "installs-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("installs/installers", InstallerViewSet, basename="installer")
router.register("installs", InstallViewSet, basename="install")
urlpatterns = router.urls
