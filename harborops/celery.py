"""The Celery app. Two queues: ``periodic`` (short scheduled work) and ``jobs`` (long jobs),
so a long install or GC never starves the sweep. The embedded worker consumes both."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harborops.settings")

app = Celery("harborops", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("periodic"), Queue("jobs"))
app.autodiscover_tasks()


@beat_init.connect
def _name_beat(**kwargs: Any) -> None:
    """Call the beat process "celery-beat" in ps/top (/proc/PID/comm). Run inside a worker (``-B``), as the
    run command does, it is otherwise a fork indistinguishable from the worker's pool children."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, b"celery-beat", 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):  # not Linux
        pass
