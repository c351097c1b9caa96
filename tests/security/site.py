"""A small populated site to attack, and every route of it as a concrete URL.

Routes come from app.url_map, so a route added later is attacked too; a route with a path
argument this module does not know how to fill fails loudly instead of being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from alerts import lifecycle
from alerts.models import Alert
from core.db import db
from editors.models import ApiToken, Role
from subscribers.models import Subscription
from subscribers.tokens import confirm_token, manage_token, unsubscribe_token
from subscribers.vapid import generate_pair
from tests.alert_payloads import audi_payload
from tests.alerts.api_client import cli_token
from tests.alerts.test_editor_ui import Browser
from tests.factories import make_editor, make_subscription
from tests.feeds.made_alerts import Team, jpeg, publish_new
from tests.subscribers.email_flow import make_subscriber

WRITER, CHIEF = "writer@attack.test", "chief@attack.test"
SUBSCRIBER = "jan@example.org"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROOT = Path(__file__).resolve().parents[2]
NOT_APPLICATION = {"tests", "bench", "migrations", "tools", "instance", "static", "templates", "translations"}
PARAMETER = re.compile(r"""args\.(?:get|getlist)\(\s*["']([A-Za-z_][\w-]*)["']|args\[["']([A-Za-z_][\w-]*)["']\]""")


@dataclass
class World:
    """A published alert with a photo, a draft with a photo, both kinds of subscriber, and keys."""

    app: Flask
    team: Team
    published: Alert
    draft: Alert
    email: Subscription
    push: Subscription
    writer_token: str  # API tokens of the editor and the publisher, made with the CLI
    chief_token: str
    _tokens: dict[str, str] = field(default_factory=dict)

    def chief(self) -> Browser:
        """The publisher, logged in through the real form, and sending their API token too."""
        browser = Browser(self.app, CHIEF)
        browser.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.chief_token}"
        return browser

    def path_values(self, rule: Rule) -> dict[str, object]:
        """A real object for each argument of `rule`, so its view gets past "not found"."""
        values: dict[str, object] = {}
        for name in rule.arguments:
            if name == "alert_id":
                values[name] = self.draft.id if "photo" in rule.endpoint else self.published.id
            elif name == "number":
                values[name] = 1
            elif name == "photo_id":
                values[name] = self.draft.latest.photos[0].id
            elif name == "name":
                values[name] = self.published.latest.photos[0].file_name
            elif name == "filename":
                values[name] = "css/site.css"
            elif name == "token":
                values[name] = self.token_for(rule.endpoint)
            elif name == "token_id":
                chiefs = select(ApiToken.id).where(ApiToken.editor_id == self.team.chief.id)
                values[name] = db.session.scalars(chiefs).first()
            else:
                raise AssertionError(f"tests/security/site.py cannot fill <{name}> of {rule.rule}: add it")
        return values

    def token_for(self, endpoint: str) -> str:
        """The email subscriber's link token that fits the route (tokens are timestamped: made once)."""
        if not self._tokens:
            self._tokens.update(
                unsubscribe=unsubscribe_token(self.email),
                confirm=confirm_token(self.email),
                manage=manage_token(self.email),
            )
        kind = next((kind for kind in ("unsubscribe", "confirm") if kind in endpoint), "manage")
        return self._tokens[kind]

    def path(self, rule: Rule, **overrides: object) -> str:
        built = rule.build({**(rule.defaults or {}), **self.path_values(rule), **overrides}, append_unknown=False)
        assert built is not None, rule.rule
        return built[1]


def make_world(app: Flask) -> World:
    app.config.update(VAPID_PRIVATE_KEY=generate_pair()[0], VAPID_SUBJECT="mailto:push-admin@example.org")
    writer, chief = make_editor(WRITER, Role.EDITOR), make_editor(CHIEF, Role.PUBLISHER)
    team = Team(writer, chief)
    published = publish_new(team, photo=True)
    draft = lifecycle.create_alert(audi_payload(), writer)
    lifecycle.add_photo(draft, jpeg(), writer, alt_text={"en": "A draft photo"})
    return World(
        app=app,
        team=team,
        published=published,
        draft=draft,
        email=make_subscriber(SUBSCRIBER),
        push=make_subscription(["NL"]),
        writer_token=cli_token(app, WRITER),
        chief_token=cli_token(app, CHIEF),
    )


def query_parameters() -> list[str]:
    """Every query parameter name the application's code reads (`args.get("...")`)."""
    names: set[str] = set()
    for package in ROOT.iterdir():
        if package.name in NOT_APPLICATION or not (package / "__init__.py").exists():
            continue
        for source in package.rglob("*.py"):
            for match in PARAMETER.finditer(source.read_text()):
                names.add(match.group(1) or match.group(2))
    return sorted(names)


def rules(app: Flask, methods: frozenset[str] | set[str]) -> Iterator[tuple[Rule, str]]:
    """(rule, method) for every route answering one of `methods`, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) & set(methods)):
            yield rule, method
