"""Settings for the test run: the real settings plus the test-only app and fast hashing."""

from __future__ import annotations

from harborops.settings import *  # noqa: F403
from harborops.settings import INSTALLED_APPS, STORAGES

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
# Personas are created in almost every test: hash their passwords fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests do not run collectstatic: serve static files without the manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
