"""Structured logs: JSON lines with the request id, an access line per request without the
client's address, and no email address, push endpoint or IP address in any line, whatever the
code logs (requests, the worker, the development server, gunicorn's own loggers)."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app import create_app
from core import clock
from delivery.channels import Job, Result, register
from delivery.worker import Worker
from editors.models import Editor, Role
from ops.logs import ACCESS_FIELDS, configure_logging
from ops.request_log import QuietRequestHandler
from tests.delivery.test_engine import AFTERNOON, publish
from tests.factories import make_editor, make_subscription

EMAIL = "jan.jansen@example.org"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/cYx0Vb9kR2s:APA91bH4sS3cr3tSubscriptionKey"
ADDRESS = "198.51.100.23"
ADDRESS6 = "2001:db8:85a3::8a2e:370:7334"
LEAKS = (EMAIL, ENDPOINT, "APA91bH4sS3cr3tSubscriptionKey", ADDRESS, ADDRESS6)
log = logging.getLogger("tests.ops.leaky")


def ours(err: str, start: str = "{") -> str:
    """Our handler's lines. Others may be there too: the migrations' logging setup (alembic.ini)
    leaves a plain handler of its own on the root logger for the rest of a test session."""
    return "\n".join(line for line in err.splitlines() if line.startswith(start))


def lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ours(err).splitlines()]


def assert_no_leaks(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text


def leaky_view() -> str:
    log.warning("subscriber %s with %s from %s and %s", EMAIL, ENDPOINT, ADDRESS, ADDRESS6)
    try:
        raise RuntimeError(f"refused {EMAIL} at {ENDPOINT} via {ADDRESS}")
    except RuntimeError:
        log.exception("sending failed")
    return "logged"


def test_request_lines_carry_the_request_id_and_nothing_to_hide(
    app: Flask, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    app.add_url_rule("/_leaky", view_func=leaky_view)
    capsys.readouterr()
    response = client.get("/_leaky?email=" + EMAIL, headers={"X-Request-ID": "req-42_abc"})
    assert response.headers["X-Request-ID"] == "req-42_abc"
    err = capsys.readouterr().err
    assert_no_leaks(ours(err))
    warning, failure, access = [line for line in lines(err) if line.get("request_id") == "req-42_abc"]
    assert warning["level"] == "WARNING" and warning["logger"] == "tests.ops.leaky"
    assert warning["message"] == "subscriber [email] with https://fcm.googleapis.com/[redacted] from [ip] and [ip]"
    assert failure["message"] == "sending failed"
    assert "RuntimeError: refused [email] at https://fcm.googleapis.com/[redacted] via [ip]" in failure["exception"]
    assert access["logger"] == "signaal.access"
    assert access["message"] == "GET /_leaky 200"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/_leaky", 200)
    assert access["duration_ms"] >= 0
    assert set(access) == {"time", "level", "logger", "message", "request_id", *ACCESS_FIELDS}


def test_tokens_in_paths_stay_out_of_the_access_line(
    app: Flask, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = "Zm9vYmFyLXNlY3JldC1tYW5hZ2UtdG9rZW4"
    response = client.get(f"/manage/{token}?utm=1")
    [access] = [line for line in lines(capsys.readouterr().err) if line["logger"] == "signaal.access"]
    assert access["path"] == "/manage/[redacted]"
    assert access["status"] == response.status_code
    assert access["request_id"] == response.headers["X-Request-ID"]
    client.get("/x%0AERROR forged")  # a newline, decoded
    [access] = [line for line in lines(capsys.readouterr().err) if line["logger"] == "signaal.access"]
    assert access["path"] == "/x?ERROR forged"


@pytest.mark.parametrize("given", ["", "has space", "x" * 65, "a@b.example", "1.2.3.4", "id;forged", "<script>"])
def test_an_unsafe_request_id_is_replaced(app: Flask, client: FlaskClient, given: str) -> None:
    made = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert made != given and len(made) == 16 and int(made, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != made  # a new one per request


class LeakySender:
    """A channel whose failure message names an address, an endpoint and an IP: the kind of text a
    library puts in its exceptions."""

    def __init__(self, app: Flask) -> None:
        pass

    def send(self, jobs: list[Job]) -> list[Result]:
        raise ConnectionError(f"cannot deliver to {EMAIL} / {ENDPOINT} ({ADDRESS})")

    def close(self) -> None:
        pass


register("leaky", LeakySender)


def test_a_worker_run_logs_nothing_to_hide(app: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    clock.freeze(AFTERNOON)
    people: tuple[Editor, Editor] = (make_editor(role=Role.EDITOR), make_editor(role=Role.PUBLISHER))
    app.config["DELIVERY_PUSH_BACKEND"] = "leaky"
    make_subscription(["NL"], endpoint=ENDPOINT)
    publish(people)
    capsys.readouterr()
    worker = Worker(app, "leaky-worker")
    try:
        assert worker.run_once() == 1  # the row goes back for a retry
    finally:
        worker.close()
    err = capsys.readouterr().err
    assert_no_leaks(ours(err))
    [crash] = [line for line in lines(err) if line["logger"] == "delivery.worker"]
    assert crash["message"] == "push sender failed; its 1 rows will be retried"
    said = "ConnectionError: cannot deliver to [email] / https://fcm.googleapis.com/[redacted] ([ip])"
    assert said in crash["exception"]


@pytest.fixture
def dev_server(app: Flask) -> Iterator[str]:
    """The server `flask serve` runs (werkzeug's), with the request handler it is given."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_the_development_server_logs_requests_without_addresses(
    dev_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    url = f"{dev_server}/feeds/alerts.json?lang=nl"
    request = urllib.request.Request(url, headers={"X-Request-ID": "dev-1"})  # noqa: S310 (http://127.0.0.1)
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert answer.status == 200 and answer.headers["X-Request-ID"] == "dev-1"
    err = capsys.readouterr().err
    # werkzeug's own line starts with the client's address; redaction would show it as [ip].
    assert "127.0.0.1" not in ours(err) and "[ip]" not in ours(err)
    [access] = [line for line in lines(err) if line.get("request_id") == "dev-1"]
    assert access["message"] == "GET /feeds/alerts.json 200"


def test_text_format_and_gunicorn_handlers_are_scrubbed_too(app: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    gunicorn_error = logging.getLogger("gunicorn.error")
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("[gunicorn] %(message)s"))
    gunicorn_error.addHandler(handler)
    try:
        app.config["LOG_FORMAT"] = "text"
        configure_logging(app)  # what create_app does; under gunicorn its loggers already exist
        capsys.readouterr()
        log.warning("text for %s at %s", EMAIL, ADDRESS)
        gunicorn_error.warning("worker for %s at %s", EMAIL, ADDRESS)
        err = capsys.readouterr().err
    finally:
        gunicorn_error.removeHandler(handler)
        app.config["LOG_FORMAT"] = "json"
        configure_logging(app)
    text_lines = ours(err, start=time.strftime("%Y"))  # asctime first
    assert "WARNING tests.ops.leaky [-] text for [email] at [ip]" in text_lines
    assert written.getvalue() == "[gunicorn] worker for [email] at [ip]\n"
    assert_no_leaks(text_lines)


def test_bad_log_settings_stop_the_app_from_starting() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        create_app({"TESTING": True, "SECRET_KEY": "x" * 40, "LOG_LEVEL": "LOUD"})


def test_json_lines_keep_this_machines_address_and_drop_terminal_colours(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    # What werkzeug's development server says as it starts.
    logging.getLogger("werkzeug").info(
        "\x1b[31m\x1b[1mWARNING: development server\x1b[0m\n * Running on http://127.0.0.1:5000"
    )
    [banner] = [line for line in lines(capsys.readouterr().err) if line["logger"] == "werkzeug"]
    assert banner["message"] == "WARNING: development server\n * Running on http://127.0.0.1:5000"
