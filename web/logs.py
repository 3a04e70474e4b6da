"""JSON log lines on stdout for everything: requests, errors with tracebacks, warnings, gunicorn.

Each line carries the request id when it is written during a request. Messages are ours and hold
no personal data; SQL parameters are hidden by the engine (store.engine: hide_parameters).
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from flask import g, has_request_context


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        request_id = getattr(record, "request_id", None)
        if request_id is None and has_request_context():
            request_id = g.get("request_id")
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["traceback"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is now (test runners and gunicorn replace it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging() -> None:
    """Send every logger's records to stdout as JSON, once per process.

    Under gunicorn the config module (web.gunicorn_conf) has already done this, gunicorn's own
    loggers included; then nothing changes here.
    """
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Python's warnings become records of the "py.warnings" logger, so they are JSON too.
    logging.captureWarnings(True)


# dictConfig for gunicorn (web.gunicorn_conf): its own loggers propagate to one JSON handler.
GUNICORN_LOGCONFIG: dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        # Any logconfig turns gunicorn's access log on; it would log concrete paths (reception
        # tokens), so it is silenced: the app logs each request with its route template.
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
    "handlers": {"json": {"()": "web.logs.StdoutHandler", "formatter": "json"}},
    "formatters": {"json": {"()": "web.logs.JsonFormatter"}},
}
