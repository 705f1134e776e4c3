from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.maintenance.api.views import GCFleetViewSet, GCPolicyViewSet, GCStepViewSet, OfflineTargetViewSet

app_name = "maintenance-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("maintenance/policies", GCPolicyViewSet, basename="policy")
router.register("maintenance/steps", GCStepViewSet, basename="step")
router.register("maintenance/instances", GCFleetViewSet, basename="instance")
router.register("maintenance/offline-targets", OfflineTargetViewSet, basename="offline-target")
urlpatterns = router.urls
