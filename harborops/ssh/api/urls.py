from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.ssh.api.views import SSHHostViewSet

app_name = "ssh-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("ssh/hosts", SSHHostViewSet, basename="host")
urlpatterns = router.urls
