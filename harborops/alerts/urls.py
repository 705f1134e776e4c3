from __future__ import annotations

from django.urls import path

from harborops.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("<int:pk>/", views.alert_detail, name="alert_detail"),
    path("<int:pk>/ack/", views.alert_ack, name="alert_ack"),
    path("<int:pk>/unack/", views.alert_unack, name="alert_unack"),
    path("silences/", views.silence_list, name="silence_list"),
    path("silences/add/", views.silence_create, name="silence_create"),
    path("silences/<int:pk>/edit/", views.silence_edit, name="silence_edit"),
    path("silences/<int:pk>/expire/", views.silence_expire, name="silence_expire"),
    path("routes/", views.route_list, name="route_list"),
    path("routes/add/", views.route_create, name="route_create"),
    path("routes/<int:pk>/edit/", views.route_edit, name="route_edit"),
    path("routes/<int:pk>/delete/", views.route_delete, name="route_delete"),
    path("channels/", views.channel_list, name="channel_list"),
    path("channels/add/", views.channel_create, name="channel_create"),
    path("channels/<int:pk>/", views.channel_detail, name="channel_detail"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
]
