from __future__ import annotations

from django.urls import path

from harborops.ssh import views

app_name = "ssh"
urlpatterns = [
    path("", views.host_list, name="host_list"),
    path("add/", views.host_create, name="host_create"),
    path("<int:pk>/", views.host_detail, name="host_detail"),
    path("<int:pk>/edit/", views.host_edit, name="host_edit"),
    path("<int:pk>/delete/", views.host_delete, name="host_delete"),
    path("<int:pk>/scan-key/", views.host_scan_key, name="host_scan_key"),
    path("<int:pk>/accept-key/", views.host_accept_key, name="host_accept_key"),
    path("<int:pk>/check/", views.host_check, name="host_check"),
]
