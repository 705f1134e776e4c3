"""gunicorn settings for tests that run harborops' real web server: harborops' own settings, plus the suite's
network rule (tests/support/netguard.py) in every worker — whatever a request makes harborops do, nothing
resolves a real name or leaves 127.0.0.0/8."""

from harborops.gunicorn_conf import *  # noqa: F403
from tests.support import netguard

netguard.install()
