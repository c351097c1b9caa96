"""A request id for every request, and one access line per response.

The id comes from the proxy's X-Request-ID when that is a short safe token (so a request can be
followed from the proxy's log into ours), otherwise a new one; the response carries it back.
The access line names the method, the path (token-like segments hidden, no query string), the
status, the time taken and the request id: never the client's address.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler

from .redact import redact_path

HEADER = "X-Request-ID"
# Kept in the WSGI environ, which lives exactly as long as the request (flask.g lives as long as
# the app context, which a test or a CLI command may share between requests).
ID_KEY, STARTED_KEY = "signaal.request_id", "signaal.request_started"
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Load balancers and Prometheus ask every few seconds: their lines only at DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/metrics"})
access_log = logging.getLogger("signaal.access")


def install(app: Flask) -> None:
    """Call before other extensions add their before_request hooks, so the clock starts first."""
    app.before_request(_start)
    app.after_request(_finish)


def current_request_id() -> str:
    """This request's id, made on first use (a hook that refused the request may run before ours)."""
    rid: str | None = request.environ.get(ID_KEY)
    if rid is None:
        incoming = request.headers.get(HEADER, "")
        rid = request.environ[ID_KEY] = incoming if SAFE_ID.fullmatch(incoming) else secrets.token_hex(8)
    return rid


def _start() -> None:
    request.environ[STARTED_KEY] = time.perf_counter()
    current_request_id()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = current_request_id()
    started: float | None = request.environ.get(STARTED_KEY)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    # A decoded path may hold a newline (%0A): never let a client start a log line of its own.
    path = "".join(c if c.isprintable() else "?" for c in redact_path(request.path))
    access_log.log(
        logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={"method": request.method, "path": path, "status": response.status_code, "duration_ms": duration_ms},
    )
    return response


class QuietRequestHandler(WSGIRequestHandler):
    """The development server (`flask serve`) without its own access log, which names the client's
    address: the app writes the access line. Its other messages keep their text, minus the address."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.getLevelName(type.upper())
        logging.getLogger("werkzeug").log(level if isinstance(level, int) else logging.INFO, message.rstrip(), *args)
