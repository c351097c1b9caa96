"""The mails about a subscription itself, rendered from templates/email/ in the subscriber's language.

Each mail has two templates: `<name>.html` (the HTML part) and `<name>_text.html` (the plain
text part). The plain one ends in .html only so babel.cfg extracts its strings; it is
rendered without HTML escaping.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import Environment

from .mailer import Mail
from .models import Subscription
from .tokens import confirm_token, manage_token, unsubscribe_token


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link under PUBLIC_URL; works without a request (the delivery worker has none)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def manage_url(subscription: Subscription) -> str:
    return public_url("selfservice.manage.page", token=manage_token(subscription))


def unsubscribe_url(subscription: Subscription) -> str:
    return public_url("selfservice.manage.unsubscribe_page", token=unsubscribe_token(subscription))


def confirmation_mail(subscription: Subscription) -> Mail:
    """The only mail an unconfirmed address ever gets; no List-Unsubscribe (there is no list yet)."""
    assert subscription.email is not None
    url = public_url("selfservice.email.confirm_page", token=confirm_token(subscription))
    hours = int(current_app.config["CONFIRM_TOKEN_HOURS"])
    with force_locale(subscription.language):
        subject = _("Confirm your Signaal alerts")
        text, html = _render("confirm", subject, subscription.language, confirm_url=url, hours=hours)
    return Mail(subscription.email, subject, text, html, kind="confirm")


def already_subscribed_mail(subscription: Subscription) -> Mail:
    """Sent instead of a confirmation when the address is confirmed already; changes nothing."""
    assert subscription.email is not None
    unsubscribe = unsubscribe_url(subscription)
    with force_locale(subscription.language):
        subject = _("You already get Signaal alerts")
        text, html = _render(
            "already_subscribed",
            subject,
            subscription.language,
            manage_url=manage_url(subscription),
            unsubscribe_url=unsubscribe,
        )
    return Mail(subscription.email, subject, text, html, unsubscribe_url=unsubscribe, kind="already_subscribed")


def _render(name: str, subject: str, lang: str, **context: Any) -> tuple[str, str]:
    context.update(subject=subject, lang=lang, sender_name=current_app.config["SENDER_NAME"])
    html = render_template(f"email/{name}.html", **context)
    text = _plain_templates().get_template(f"email/{name}_text.html").render(**context)
    return text.strip() + "\n", html


def _plain_templates() -> Environment:
    """The app's template environment without HTML escaping, made once per app (it caches templates)."""
    env = current_app.extensions.get("signaal_plain_templates")
    if env is None:
        env = current_app.jinja_env.overlay(autoescape=False)
        current_app.extensions["signaal_plain_templates"] = env
    return env
