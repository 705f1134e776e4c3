from __future__ import annotations

from harborops.core.models.jobs import JobLogLine, JobRun
from harborops.core.models.login_throttle import LoginFailureCounter
from harborops.core.models.periodic import PeriodicRun
from harborops.core.models.tokens import ApiToken

__all__ = ("ApiToken", "JobLogLine", "JobRun", "LoginFailureCounter", "PeriodicRun")
