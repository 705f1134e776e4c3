"""Settings of the benchmarks: the real settings, plus what running without a deployment needs.

Static files without the collectstatic manifest (as in tests/settings.py), and the Django test
client's host name allowed.
"""

from __future__ import annotations

import warnings

from harborops.settings import *  # noqa: F403
from harborops.settings import ALLOWED_HOSTS, STORAGES

ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# whitenoise warns that STATIC_ROOT has no collected files: the benchmarks serve none.
warnings.filterwarnings("ignore", message="No directory at")
