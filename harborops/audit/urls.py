from __future__ import annotations

from django.urls import path

from harborops.audit import views

app_name = "audit"
urlpatterns = [
    path("actions/", views.actionlog_list, name="actionlog_list"),
    path("actions/<int:pk>/", views.actionlog_detail, name="actionlog_detail"),
]
