from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from harborops.core.api.schema import CachedSchemaView
from harborops.core.forms import ThrottledAuthenticationForm
from harborops.core.views.ops import healthz, metrics_view

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("harborops.core.api.urls")),
    path("", include("harborops.audit.api.urls")),
    path("", include("harborops.fleet.api.urls")),
    path("events/", include("harborops.events.api.urls")),
    path("", include("harborops.ssh.api.urls")),
    path("", include("harborops.installs.api.urls")),
    path("", include("harborops.access.api.urls")),
    path("", include("harborops.maintenance.api.urls")),
    path("", include("harborops.certificates.api.urls")),
    path("replication/", include("harborops.replication.api.urls")),
    path("", include("harborops.alerts.api.urls")),
    path("schema/", CachedSchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", include("harborops.core.urls")),
    path("audit/", include("harborops.audit.urls")),
    path("fleet/", include("harborops.fleet.urls")),
    path("events/", include("harborops.events.urls")),
    path("ssh/", include("harborops.ssh.urls")),
    path("installs/", include("harborops.installs.urls")),
    path("access/", include("harborops.access.urls")),
    path("maintenance/", include("harborops.maintenance.urls")),
    path("certificates/", include("harborops.certificates.urls")),
    path("replication/", include("harborops.replication.urls")),
    path("alerts/", include("harborops.alerts.urls")),
    path("api/", include(api_patterns)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                     authentication_form=ThrottledAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]

handler404 = "harborops.core.views.errors.not_found"
handler500 = "harborops.core.views.errors.server_error"
