from __future__ import annotations


class JobFailed(Exception):
    """The job cannot succeed; the message is shown to the user as the job's error."""


class JobCancelled(Exception):
    """Raised by JobLog.check_cancelled() when someone asked to cancel the job."""


class JobRetry(Exception):
    """A transient failure: run the job again later if attempts remain."""

    def __init__(self, message: str, *, countdown: int = 30) -> None:
        super().__init__(message)
        self.countdown = countdown
