"""gunicorn settings for the run command and the compose deployment (env overrides)."""

from __future__ import annotations

import gc
import os
from typing import Any

workers = int(os.environ.get("HARBOROPS_WEB_WORKERS", "2"))
threads = int(os.environ.get("HARBOROPS_WEB_THREADS", "4"))
# Long enough for a 600 MB+ installer upload streamed to disk behind a proxy.
timeout = int(os.environ.get("HARBOROPS_WEB_TIMEOUT", "300"))
graceful_timeout = 20
accesslog = "-"
# No control socket: its default path (~/.gunicorn/gunicorn.ctl) is shared by every gunicorn of the
# user, so two harborops on one machine (or two test runs) would fight over it; we never use gunicornc.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("HARBOROPS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Load Django and every app once, in the master, and fork the workers from it: they share those pages
# copy-on-write instead of each importing its own copy (issue 15: the run command turns this on).
preload_app = os.environ.get("HARBOROPS_WEB_PRELOAD", "0").lower() in ("1", "true", "yes")


def pre_fork(server: Any, worker: Any) -> None:
    # With preload: move what the import left into the collector's permanent generation, so no collection
    # in a worker ever writes to (and so copies) the pages it shares with the master.
    if preload_app:
        gc.collect()
        gc.freeze()


def post_worker_init(worker: Any) -> None:
    # The app (Django, every app's modules) lives as long as the worker: freeze it, so a full collection
    # scans only what requests allocate. Unfrozen, a full pass over ~500,000 objects took ~120 ms and landed
    # inside one request in ten to twenty (issue 15, docs/benchmarks.md "Every page at 1,000 instances").
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    # prometheus-client multiprocess mode: drop a dead worker's live gauges.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
