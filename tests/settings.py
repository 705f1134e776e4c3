"""Settings for the test run: the real settings plus the test-only app and fast hashing."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# A plain `python -m pytest` (no HARBOROPS_DATA_DIR, unlike scripts/test.sh) gets a data directory of its own:
# two runs side by side never share a SQLite test database or a filesystem broker. Subprocesses inherit it.
if "HARBOROPS_DATA_DIR" not in os.environ:
    os.environ["HARBOROPS_DATA_DIR"] = tempfile.mkdtemp(prefix="harborops-pytest-")
    atexit.register(shutil.rmtree, os.environ["HARBOROPS_DATA_DIR"], ignore_errors=True)

from harborops.settings import *  # noqa: F403
from harborops.settings import INSTALLED_APPS, STORAGES

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
# Personas are created in almost every test: hash their passwords fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests do not run collectstatic: serve static files without the manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
