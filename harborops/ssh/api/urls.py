from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.ssh.api.views import SSHHostViewSet

app_name = "ssh-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("ssh/hosts", SSHHostViewSet, basename="host")
urlpatterns = router.urls
