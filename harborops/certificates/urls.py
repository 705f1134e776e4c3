from __future__ import annotations

from django.urls import path

from harborops.certificates import views, views_ca, views_managed, views_trust

app_name = "certificates"
urlpatterns = [
    path("", views.expiry_list, name="expiry_list"),
    path("scan/", views.scan_all, name="scan_all"),
    path("endpoints/", views.endpoint_list, name="endpoint_list"),
    path("endpoints/add/", views.endpoint_create, name="endpoint_create"),
    path("endpoints/<int:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("endpoints/<int:pk>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("endpoints/<int:pk>/scan/", views.endpoint_scan, name="endpoint_scan"),
]
urlpatterns += [
    path("cas/", views_ca.ca_list, name="ca_list"),
    path("cas/add/", views_ca.ca_create, name="ca_create"),
    path("cas/import/", views_ca.ca_import, name="ca_import"),
    path("cas/<int:pk>/", views_ca.ca_detail, name="ca_detail"),
    path("cas/<int:pk>/issue/", views_ca.ca_issue, name="ca_issue"),
    path("cas/<int:pk>/delete/", views_ca.ca_delete, name="ca_delete"),
    path("cas/<int:pk>/ca.crt", views_ca.ca_download, name="ca_download"),
    path("cas/<int:pk>/export-key/", views_ca.ca_export_key, name="ca_export_key"),
    path("issued/<int:pk>/", views_ca.issued_detail, name="issued_detail"),
    path("issued/<int:pk>/cert.pem", views_ca.issued_cert, name="issued_cert"),
    path("issued/<int:pk>/chain.pem", views_ca.issued_chain, name="issued_chain"),
    path("issued/<int:pk>/bundle/", views_ca.issued_bundle, name="issued_bundle"),
]
urlpatterns += [
    path("trust/", views_trust.trust_matrix, name="trust_matrix"),
    path("trust/hosts/add/", views_trust.pulling_host_create, name="pulling_host_create"),
    path("trust/hosts/<int:pk>/delete/", views_trust.pulling_host_delete, name="pulling_host_delete"),
    path("trust/push/", views_trust.trust_push, name="trust_push"),
    path("trust/check/", views_trust.trust_check, name="trust_check"),
]
urlpatterns += [
    path("managed/", views_managed.managed_list, name="managed_list"),
    path("managed/<int:pk>/rotate/", views_managed.rotate, name="rotate"),
    path("managed/<int:pk>/renew/", views_managed.renew, name="renew"),
    path("rotations/<int:pk>/", views_managed.deployment_detail, name="deployment_detail"),
]
