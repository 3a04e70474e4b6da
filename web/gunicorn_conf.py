"""gunicorn settings for this service: `gunicorn -c python:web.gunicorn_conf 'app:create_app()'`.

Every line gunicorn writes is JSON on stdout (web.logs), its own messages included; there is no
access log, as the app logs each request itself (route template, never the concrete path). With
METRICS=1 the workers count into files under PROMETHEUS_MULTIPROC_DIR (default
INSTANCE_DIR/metrics), emptied when the server starts, so that /metrics adds up every worker.
Bind address and worker count stay on the command line (see deploy/).
"""
from __future__ import annotations

import os
import shutil

from web.logs import GUNICORN_LOGCONFIG

logconfig_dict = GUNICORN_LOGCONFIG
accesslog = None
# Request lines up to gunicorn's maximum reach the app, which refuses URLs over 4 KiB itself, in its
# own format (web/body_limits.py); only lines beyond this get gunicorn's English page (nginx in
# front stops them first: deploy/README.md).
limit_request_line = 8190

_METRICS = os.environ.get("METRICS", "").lower() in ("1", "true", "yes", "on")
if _METRICS and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    from store.location import instance_dir

    # Set here, in the master, before any worker imports prometheus_client.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(instance_dir() / "metrics")


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if _METRICS and folder:
        # Counts of an earlier run would otherwise be added to this one's.
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
