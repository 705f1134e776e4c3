from __future__ import annotations

from django.urls import path

from harborops.events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("activity/", views.event_activity, name="event_activity"),
    path("export.<str:fmt>", views.event_export, name="event_export"),
    path("harbor/<int:pk>/", views.event_detail, name="event_detail"),
    path("users/<path:username>/", views.user_timeline, name="user_timeline"),
    path("resources/", views.resource_timeline, name="resource_timeline"),
    path("instances/", views.instance_list, name="instance_list"),
    path("instances/<int:pk>/ingest/", views.instance_ingest, name="instance_ingest"),
    path("instances/<int:pk>/backfill/", views.instance_backfill, name="instance_backfill"),
    path("ingest/", views.fleet_ingest, name="fleet_ingest"),
    path("purge/", views.purge, name="purge"),
]
