from __future__ import annotations

from django.urls import path

from harborops.maintenance import cleanup_views, views

app_name = "maintenance"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("check/", views.check_now, name="check"),
    path("policies/add/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("policies/<int:pk>/run/", views.policy_run, name="policy_run"),
    path("policies/<int:pk>/set-schedules/", views.policy_set_schedules, name="policy_set_schedules"),
    path("runs/<int:job_pk>/steps/", views.run_steps, name="run_steps"),
    path("cleanup/", cleanup_views.report, name="cleanup_report"),
    path("cleanup/scan/", cleanup_views.scan_now, name="cleanup_scan"),
    path("cleanup/new/", cleanup_views.plan_create, name="cleanup_create"),
    path("cleanup/<int:pk>/", cleanup_views.plan_detail, name="cleanup_plan"),
    path("cleanup/<int:pk>/confirm/", cleanup_views.plan_confirm, name="cleanup_confirm"),
    path("offline/add/", views.offline_create, name="offline_create"),
    path("offline/<int:pk>/", views.offline_detail, name="offline_detail"),
    path("offline/<int:pk>/edit/", views.offline_edit, name="offline_edit"),
    path("offline/<int:pk>/delete/", views.offline_delete, name="offline_delete"),
]
