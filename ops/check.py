"""`flask --app app check`: the settings that are unsafe in production, before they go live.

Each finding names the setting and what to do; no finding prints a value, since most of what is
checked is secret. Errors make the command exit 1; warnings are printed and exit 0.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.config import DEFAULTS, config_file
from subscribers.vapid import SUBJECT, VapidError, vapid_keys

MIN_SECRET_LENGTH = 32
MIN_TOKEN_LENGTH = 24
# Values people paste from examples and tutorials.
PLACEHOLDER_SECRETS = {"", "dev", "secret", "changeme", "change-me", "test", "development"}
SECRETS = ("SECRET_KEY", "VAPID_PRIVATE_KEY", "SMTP_PASSWORD", "METRICS_TOKEN")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    key: str
    text: str


def error(key: str, text: str) -> Finding:
    return Finding("error", key, text)


def warning(key: str, text: str) -> Finding:
    return Finding("warning", key, text)


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Report settings that are unsafe in production; exit 1 if any is an error."""
    findings = run_checks(current_app._get_current_object())  # type: ignore[attr-defined]
    for finding in findings:
        click.echo(f"{finding.level}: {finding.key}: {finding.text}")
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s)" if findings else "no unsafe settings found")
    if errors:
        raise SystemExit(1)


def run_checks(app: Flask) -> list[Finding]:
    return [finding for check in CHECKS for finding in check(app)]


def secret_key(app: Flask) -> Iterator[Finding]:
    value = str(app.config.get("SECRET_KEY") or "")
    instance_key = Path(app.instance_path) / "secret_key"
    if value.lower() in PLACEHOLDER_SECRETS or "not-for-production" in value:
        yield error("SECRET_KEY", "is a placeholder; set a random one (secrets.token_urlsafe(48))")
    elif len(value) < MIN_SECRET_LENGTH:
        yield error("SECRET_KEY", f"is shorter than {MIN_SECRET_LENGTH} characters; set a random one")
    elif instance_key.exists() and instance_key.read_text().strip() == value:
        yield warning(
            "SECRET_KEY",
            "is not set: the key made for development in instance/secret_key is used; "
            "every machine needs the same one (SIGNAAL_SECRET_KEY)",
        )


def debug(app: Flask) -> Iterator[Finding]:
    if app.debug:
        yield error("DEBUG", "is on: the debugger runs code for anyone who reaches an error page")


def public_url(app: Flask) -> Iterator[Finding]:
    if urlsplit(str(app.config["PUBLIC_URL"])).scheme != "https":
        yield error("PUBLIC_URL", "is not https: links in mails, feeds and the API would be sent in the clear")


def database(app: Flask) -> Iterator[Finding]:
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        yield warning("DATABASE_URL", "is SQLite: one machine and one worker only; use PostgreSQL in production")


def vapid(app: Flask) -> Iterator[Finding]:
    subject = app.config.get("VAPID_SUBJECT") or f"mailto:{app.config.get('SENDER', '')}"
    if not SUBJECT.match(subject):
        yield error("VAPID_SUBJECT", "must be a mailto: address or an https: URL that someone reads")
    elif not app.config.get("VAPID_SUBJECT") and app.config.get("SENDER") == DEFAULTS["SENDER"]:
        yield error("VAPID_SUBJECT", "is not set and SENDER is the example address: push services could reach no one")
    try:
        vapid_keys(app)
    except VapidError as problem:
        # The keys are read before the subject is looked at: a complaint about the subject means
        # the keys are fine. The message itself is not shown; the settings are named instead.
        if not str(problem).startswith("VAPID_SUBJECT"):
            yield error("VAPID_PRIVATE_KEY", "no usable VAPID keys: run `flask vapid generate` or set the key pair")


def mail(app: Flask) -> Iterator[Finding]:
    backend = app.config["MAIL_BACKEND"]
    if backend == "console":
        yield warning("MAIL_BACKEND", "is console: no mail is sent, sign-ups cannot be confirmed")
    elif backend == "smtp" and app.config["SMTP_TLS"] == "none" and not _is_local(str(app.config["SMTP_HOST"])):
        yield error("SMTP_TLS", "is none for a server on another machine: set starttls or ssl")


def push_endpoints(app: Flask) -> Iterator[Finding]:
    if app.config.get("PUSH_ALLOW_PRIVATE_ENDPOINTS"):
        yield error("PUSH_ALLOW_PRIVATE_ENDPOINTS", "is on: subscribers could make this server call private networks")


def cookies(app: Flask) -> Iterator[Finding]:
    if not app.config.get("SESSION_COOKIE_SECURE"):
        yield error("SESSION_COOKIE_SECURE", "is off: editors' session cookies would travel over plain http")


def metrics(app: Flask) -> Iterator[Finding]:
    token = str(app.config.get("METRICS_TOKEN") or "")
    if not token:
        yield error(
            "METRICS_TOKEN",
            "is not set: /metrics answers any local client, and behind a proxy on this machine possibly everyone",
        )
    elif len(token) < MIN_TOKEN_LENGTH:
        yield error("METRICS_TOKEN", f"is shorter than {MIN_TOKEN_LENGTH} characters")


def rate_limit_storage(app: Flask) -> Iterator[Finding]:
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        yield warning(
            "RATELIMIT_STORAGE_URI",
            "is memory://: each web process counts on its own, so N processes allow N times the limits",
        )


def secrets_in_file(app: Flask) -> Iterator[Finding]:
    path = config_file(app)
    if not os.path.exists(path):
        return
    try:
        with open(path, "rb") as handle:
            written = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        yield error("SIGNAAL_CONFIG", "the config file cannot be read as TOML")
        return
    for key in SECRETS:
        if written.get(key):
            yield warning(key, "is in the config file: keep secrets in the environment (SIGNAAL_" + key + ")")


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


CHECKS: list[Callable[[Flask], Iterator[Finding]]] = [
    secret_key,
    debug,
    public_url,
    database,
    vapid,
    mail,
    push_endpoints,
    cookies,
    metrics,
    rate_limit_storage,
    secrets_in_file,
]
