from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.maintenance.api.cleanup import (
    CleanupPlanViewSet,
    ProjectUsageViewSet,
    RepositoryUsageViewSet,
    UntaggedArtifactViewSet,
)
from harborops.maintenance.api.views import GCFleetViewSet, GCPolicyViewSet, GCStepViewSet, OfflineTargetViewSet

app_name = "maintenance-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("maintenance/policies", GCPolicyViewSet, basename="policy")
router.register("maintenance/steps", GCStepViewSet, basename="step")
router.register("maintenance/instances", GCFleetViewSet, basename="instance")
router.register("maintenance/offline-targets", OfflineTargetViewSet, basename="offline-target")
router.register("maintenance/cleanup/untagged", UntaggedArtifactViewSet, basename="cleanup-untagged")
router.register("maintenance/cleanup/projects", ProjectUsageViewSet, basename="cleanup-project")
router.register("maintenance/cleanup/repositories", RepositoryUsageViewSet, basename="cleanup-repository")
router.register("maintenance/cleanup/plans", CleanupPlanViewSet, basename="cleanup-plan")
urlpatterns = router.urls
