from __future__ import annotations

from django.urls import path

from harborops.replication import views

app_name = "replication"
urlpatterns = [
    path("", views.policy_list, name="policy_list"),
    path("collect/", views.collect, name="collect"),
    path("topology/", views.topology_page, name="topology"),
    path("topology.svg", views.topology_svg, name="topology_svg"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/trigger/", views.policy_trigger, name="policy_trigger"),
    path("policies/<int:pk>/enabled/", views.policy_set_enabled, name="policy_set_enabled"),
    path("policies/<int:pk>/schedule/", views.policy_schedule, name="policy_schedule"),
    path("executions/<int:pk>/stop/", views.execution_stop, name="execution_stop"),
    path("tasks/<int:pk>/log/", views.task_log, name="task_log"),
    path("pairs/", views.pair_list, name="pair_list"),
    path("pairs/<int:pk>/", views.pair_detail, name="pair_detail"),
    path("pairs/<int:pk>/setup/", views.pair_setup, name="pair_setup"),
    path("pairs/<int:pk>/teardown/", views.pair_teardown, name="pair_teardown"),
    path("pairs/<int:pk>/check/", views.pair_check, name="pair_check"),
    path("pairs/<int:pk>/rotate/", views.pair_rotate, name="pair_rotate"),
    path("pairs/<int:pk>/report/", views.pair_report, name="pair_report"),
    path("pairs/<int:pk>/report.csv", views.pair_report_csv, name="pair_report_csv"),
]
