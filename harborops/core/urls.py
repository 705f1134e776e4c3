from __future__ import annotations

from django.urls import path

from harborops.core.views import account, jobs

app_name = "core"
urlpatterns = [
    path("", jobs.home, name="home"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status/", jobs.job_status, name="job_status"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("account/tokens/", account.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", account.token_revoke, name="token_revoke"),
    path("users/", account.user_list, name="user_list"),
    path("users/<int:pk>/role/", account.user_role, name="user_role"),
    path("users/lockouts/<int:pk>/clear/", account.lockout_clear, name="lockout_clear"),
]
