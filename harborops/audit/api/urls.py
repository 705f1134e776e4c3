from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.audit.api.views import ActionLogViewSet

app_name = "audit-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("action-log", ActionLogViewSet, basename="actionlog")
urlpatterns = router.urls
