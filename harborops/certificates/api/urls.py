from __future__ import annotations

from rest_framework.routers import DefaultRouter

from harborops.certificates.api.views import (
    CertificateViewSet,
    EndpointViewSet,
    ExpiryViewSet,
    IssuedCertificateViewSet,
    ManagedCAViewSet,
    PullingHostViewSet,
    TrustViewSet,
)
from harborops.certificates.api.views_managed import AttentionViewSet, DeploymentViewSet, DiskFileViewSet

app_name = "certificates-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # one URL per route: no /api/….json twins (tests/core/test_secret_canaries.py)
router.register("certificates/endpoints", EndpointViewSet, basename="endpoint")
router.register("certificates/certificates", CertificateViewSet, basename="certificate")
router.register("certificates/expiry", ExpiryViewSet, basename="expiry")
router.register("certificates/cas", ManagedCAViewSet, basename="ca")
router.register("certificates/issued", IssuedCertificateViewSet, basename="issued")
router.register("certificates/pulling-hosts", PullingHostViewSet, basename="pulling-host")
router.register("certificates/trust", TrustViewSet, basename="trust")
router.register("certificates/disk-files", DiskFileViewSet, basename="disk-file")
router.register("certificates/rotations", DeploymentViewSet, basename="rotation")
router.register("certificates/attention", AttentionViewSet, basename="attention")
urlpatterns = router.urls
