from __future__ import annotations

from django.urls import path

from harborops.installs import views

app_name = "installs"
urlpatterns = [
    path("", views.install_list, name="install_list"),
    path("installers/upload/", views.installer_upload, name="installer_upload"),
    path("installers/url/", views.installer_add_url, name="installer_add_url"),
    path("new/", views.install_create, name="install_create"),
    path("<int:pk>/", views.install_detail, name="install_detail"),
    path("<int:pk>/steps/", views.install_steps, name="install_steps"),
    path("<int:pk>/start/", views.install_start, name="install_start"),
    path("<int:pk>/delete/", views.install_delete, name="install_delete"),
]
