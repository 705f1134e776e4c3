from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.fleet.api.views import HAGroupViewSet, InstanceViewSet

app_name = "fleet-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("fleet/instances", InstanceViewSet, basename="instance")
router.register("fleet/ha-groups", HAGroupViewSet, basename="hagroup")
urlpatterns = router.urls
