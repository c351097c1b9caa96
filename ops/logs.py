"""Logging for every process (`flask serve`, `flask scheduler`, `flask worker`, gunicorn): one
handler on the root logger that writes JSON lines (or plain text) to stderr, each line scrubbed
by ops.redact and tagged with the request id when there is a request.

Redaction happens when a line is formatted, not by changing the record: a record is shared by
every handler, and one that rewrote it would decide what the others (a test's capture, say) see.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context
from flask.logging import default_handler

from .redact import redact
from .request_log import current_request_id

FORMATS = ("json", "text")
# Fields an access line carries besides its message (ops/request_log.py).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# gunicorn's own loggers do not propagate to the root logger: their handlers get our redaction.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")
# Terminal colours (werkzeug paints its banner): in a JSON line they are only noise.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def configure_logging(app: Flask) -> None:
    """Install (or replace) our handler; safe to call for every app the process creates."""
    level, style = str(app.config["LOG_LEVEL"]).upper(), str(app.config["LOG_FORMAT"]).lower()
    if style not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {style!r}")
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler writes two INFO lines for every run of every job: dozens a minute about nothing.
    logging.getLogger("apscheduler").setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    # Flask's own handler would print app errors a second time, unscrubbed.
    app.logger.removeHandler(default_handler)
    for name in GUNICORN_LOGGERS:
        for other in logging.getLogger(name).handlers:
            if not isinstance(other.formatter, RedactingFormatter):
                other.setFormatter(RedactingFormatter(other.formatter))


class StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line: test runners and daemons replace it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def request_id() -> str | None:
    return current_request_id() if has_request_context() else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(ANSI_ESCAPE.sub("", record.getMessage())),
        }
        rid = request_id()
        if rid:
            entry["request_id"] = rid
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                value = getattr(record, field)
                entry[field] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # A copy: the request id is added and the shared record stays as it came.
        copy = logging.makeLogRecord(record.__dict__)
        copy.request_id = request_id() or "-"
        return redact(super().format(copy))


class RedactingFormatter(logging.Formatter):
    """Another handler's formatter, with its output scrubbed."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))
