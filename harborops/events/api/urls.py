from __future__ import annotations

from django.urls import path

from harborops.events.api import views

app_name = "events-api"
urlpatterns = [
    path("", views.EventSearchView.as_view(), name="search"),
    path("export/<str:fmt>/", views.EventExportView.as_view(), name="export"),
    path("harbor/<int:pk>/", views.EventDetailView.as_view(), name="harbor-detail"),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("instances/", views.InstanceFiguresView.as_view(), name="instances"),
    path("anomalies/", views.AnomalyListView.as_view(), name="anomalies"),
    path("instances/<int:pk>/ingest/", views.InstanceIngestView.as_view(), name="instance-ingest"),
    path("instances/<int:pk>/backfill/", views.InstanceBackfillView.as_view(), name="instance-backfill"),
    path("ingest/", views.FleetIngestView.as_view(), name="ingest-all"),
    path("purge/", views.PurgeView.as_view(), name="purge"),
]
