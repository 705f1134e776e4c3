from __future__ import annotations

from django.urls import path

from harborops.replication.api import views

app_name = "replication-api"
urlpatterns = [
    path("policies/", views.PolicyListView.as_view(), name="policy-list"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="policy-detail"),
    path("policies/<int:pk>/executions/", views.PolicyExecutionsView.as_view(), name="policy-executions"),
    path("policies/<int:pk>/trigger/", views.PolicyTriggerView.as_view(), name="policy-trigger"),
    path("policies/<int:pk>/enabled/", views.PolicyEnabledView.as_view(), name="policy-enabled"),
    path("policies/<int:pk>/schedule/", views.PolicyScheduleView.as_view(), name="policy-schedule"),
    path("executions/<int:pk>/stop/", views.ExecutionStopView.as_view(), name="execution-stop"),
    path("tasks/<int:pk>/log/", views.TaskLogView.as_view(), name="task-log"),
    path("registries/", views.RegistryListView.as_view(), name="registry-list"),
    path("instances/", views.CollectStateListView.as_view(), name="instance-list"),
    path("collect/", views.CollectView.as_view(), name="collect"),
    path("topology/", views.TopologyView.as_view(), name="topology"),
    path("pairs/", views.PairListView.as_view(), name="pair-list"),
    path("pairs/<int:pk>/", views.PairDetailView.as_view(), name="pair-detail"),
    path("pairs/<int:pk>/setup/", views.PairSetupView.as_view(), name="pair-setup"),
    path("pairs/<int:pk>/teardown/", views.PairTeardownView.as_view(), name="pair-teardown"),
    path("pairs/<int:pk>/check/", views.PairCheckView.as_view(), name="pair-check"),
    path("pairs/<int:pk>/rotate/", views.PairRotateView.as_view(), name="pair-rotate"),
    path("pairs/<int:pk>/missing/", views.PairMissingView.as_view(), name="pair-missing"),
]
