"""The Celery app. Two queues: ``periodic`` (short scheduled work) and ``jobs`` (long jobs),
so a long install or GC never starves the sweep. The embedded worker consumes both."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harborops.settings")

app = Celery("harborops", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("periodic"), Queue("jobs"))
app.autodiscover_tasks()
