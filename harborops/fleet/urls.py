from __future__ import annotations

from django.urls import path

from harborops.fleet import views

app_name = "fleet"
urlpatterns = [
    path("", views.instance_list, name="instance_list"),
    path("add/", views.instance_create, name="instance_create"),
    path("sweep/", views.fleet_sweep, name="fleet_sweep"),
    path("sweeps/status/", views.sweep_status, name="sweep_status"),
    path("import/", views.instance_import, name="instance_import"),
    path("test-connection/", views.connection_test, name="connection_test"),
    path("<int:pk>/test-connection/", views.connection_test, name="instance_connection_test"),
    path("ha-groups/", views.hagroup_list, name="hagroup_list"),
    path("ha-groups/add/", views.hagroup_create, name="hagroup_create"),
    path("ha-groups/<int:pk>/", views.hagroup_edit, name="hagroup_edit"),
    path("ha-groups/<int:pk>/delete/", views.hagroup_delete, name="hagroup_delete"),
    path("<int:pk>/", views.instance_detail, name="instance_detail"),
    path("<int:pk>/edit/", views.instance_edit, name="instance_edit"),
    path("<int:pk>/delete/", views.instance_delete, name="instance_delete"),
    path("<int:pk>/sweep/", views.instance_sweep, name="instance_sweep"),
]
