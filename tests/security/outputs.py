"""Everything the site shows of an alert: every GET route, and the mails and pushes subscribers get.

Each output is audited by its kind (attacks.py): HTML must hold no script an attacker made,
XML no element, JSON only strings; `shown` texts must come out exactly as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from flask import Flask

from core import clock
from delivery.channels import recording_factory
from delivery.mail_render import Renderer
from delivery.push_payload import prepare
from delivery.worker import Worker
from subscribers.models import Channel
from tests.alerts.test_editor_ui import Browser

from .attacks import html_problems, json_problems, xml_problems
from .site import World, rules

# Outputs that show an alert's texts, so a payload written there must be found in them.
SHOW_TEXTS = frozenset(
    {
        "public.alert",
        "editor.alert",
        "editor.version",
        "feeds.json_feed",
        "feeds.rss_feed",
        "feeds.atom_feed",
        "cap.alert_message",
        "alerts_api.get_alert",
        "alerts_api.get_draft",
        "mail",
        "push",
    }
)


@dataclass(frozen=True)
class Output:
    name: str  # the endpoint, or "mail" / "push"
    where: str  # the path, or who got it
    kind: str  # html | xml | json | text | other
    body: bytes


def kind_of(mimetype: str) -> str:
    if mimetype == "text/html":
        return "html"
    if mimetype.endswith(("/xml", "+xml")):
        return "xml"
    if mimetype.endswith(("/json", "+json")):
        return "json"
    return "other"


def pages(world: World, browser: Browser, alert_id: int) -> list[Output]:
    """Every GET route, for the alert `alert_id`, as the logged-in `browser` sees it."""
    found = []
    for rule, _method in rules(world.app, {"GET"}):
        path = world.path(rule, **({"alert_id": alert_id} if "alert_id" in rule.arguments else {}))
        response = browser.get(path)
        assert response.status_code != 500, path  # a 503 is an honest answer (health, no push keys)
        found.append(Output(rule.endpoint, path, kind_of(response.mimetype), response.data))
        response.close()  # static files are streamed from an open file
    return found


def send_pending(app: Flask) -> None:
    """Everything due, through the configured channels, as one worker would."""
    worker = Worker(app, "attack")
    try:
        while worker.run_once():
            pass
    finally:
        worker.close()


def deliveries(world: World, alert_id: int) -> list[Output]:
    """Send what is pending with the recording senders; the mails and pushes of `alert_id`."""
    send_pending(world.app)
    found = []
    renderer = Renderer(world.app, clock.now())
    jobs = [job for job in recording_factory(world.app).sent if job.message.alert_id == alert_id]
    assert {job.recipient.channel for job in jobs} == {Channel.EMAIL, Channel.PUSH}
    for job in jobs:
        if job.recipient.channel == Channel.EMAIL:
            mail = message_from_bytes(renderer.outgoing(job).raw(), policy=default)
            assert isinstance(mail, EmailMessage)
            for subtype in ("html", "plain"):
                part = mail.get_body(preferencelist=(subtype,))
                assert part is not None
                body = part.get_content().encode()
                found.append(Output("mail", f"{subtype} part", "html" if subtype == "html" else "text", body))
            found.append(Output("mail", "subject", "text", str(mail["Subject"]).encode()))
        else:
            plaintext = prepare(job.message, job.recipient.language, clock.now()).plaintext
            found.append(Output("push", "payload", "json", plaintext))
    return found


def problems(outputs: Iterable[Output], shown: Iterable[str]) -> list[str]:
    """What went wrong anywhere; `shown` is checked only in outputs that show alert texts."""
    shown = tuple(shown)
    found = []
    for output in outputs:
        expected = shown if output.name in SHOW_TEXTS else ()
        if output.kind == "html":
            issues = html_problems(output.body, expected)
        elif output.kind == "xml":
            issues = xml_problems(output.body, expected)
        elif output.kind == "json":
            issues = json_problems(output.body, expected)
        elif output.kind == "text":
            issues = [f"not in the text: {value!r}" for value in expected if value not in output.body.decode()]
        else:
            issues = []
        found.extend(f"{output.name} {output.where}: {issue}" for issue in issues)
    return found
