from __future__ import annotations

from django.urls import path

from harborops.access import views

app_name = "access"
urlpatterns = [
    path("", views.mapping_list, name="mapping_list"),
    path("mappings/add/", views.mapping_create, name="mapping_create"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping_detail"),
    path("mappings/<int:pk>/edit/", views.mapping_edit, name="mapping_edit"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("onboard/", views.onboard, name="onboard"),
    path("groups/search/", views.group_search, name="group_search"),
    path("plan/", views.plan, name="plan"),
    path("apply/", views.apply, name="apply"),
    path("preflight/", views.preflight_checks, name="preflight"),
    path("preflight/draft/", views.preflight_draft, name="preflight_draft"),
    path("drift/", views.drift_list, name="drift_list"),
    path("drift/check/", views.drift_check, name="drift_check"),
]
