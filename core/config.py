"""Settings: defaults, then a TOML file, then SIGNAAL_* environment variables, then a test override.

Flask only keeps UPPERCASE keys, so every key here and in config.example.toml is uppercase.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # Database: SQLite under instance/ unless DATABASE_URL says otherwise.
    "DATABASE_URL": None,
    # PostgreSQL only: give up connecting after this long. Without it an unreachable host holds
    # every request (and /healthz) for as long as the kernel retries, about two minutes.
    "DATABASE_CONNECT_TIMEOUT_SECONDS": 5,
    "SECRET_KEY": None,
    # Who we are in CAP messages and links.
    "SENDER": "signaal@example.org",
    "SENDER_NAME": "Signaal",
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Editorial rules.
    "SINGLE_PERSON_PUBLISHING": False,
    "LANGUAGES": ["nl", "en"],
    "REQUIRED_LANGUAGES": ["nl", "en"],
    "DEFAULT_LANGUAGE": "nl",
    # Photos.
    "UPLOAD_DIR": None,
    "PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 40_000_000,
    "PHOTO_MAX_EDGE": 2000,
    "PHOTO_THUMB_EDGE": 320,
    # Scheduler: in the web process for the embedded default, else `flask scheduler`.
    "SCHEDULER_IN_WEB": True,
    "SCHEDULER_INTERVAL_SECONDS": 10,
    # Web push (subscribers/vapid.py, subscribers/endpoints.py). Keys from config win over VAPID_FILE.
    "VAPID_PRIVATE_KEY": None,
    "VAPID_PUBLIC_KEY": None,
    "VAPID_SUBJECT": None,
    "VAPID_FILE": None,
    "PUSH_ALLOWED_HOSTS": [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.push.services.mozilla.com",
        "*.notify.windows.com",
        "web.push.apple.com",
        "*.push.apple.com",
    ],
    "PUSH_ALLOW_PRIVATE_ENDPOINTS": False,
    # Sending pushes (delivery/webpush.py): timeouts, requests in flight, pause after 401/403.
    "PUSH_CONNECT_TIMEOUT_SECONDS": 5,
    "PUSH_READ_TIMEOUT_SECONDS": 10,
    "PUSH_MAX_IN_FLIGHT_PER_ORIGIN": 64,
    "PUSH_AUTH_PAUSE_SECONDS": 900,
    # Delivery: workers in the web process for the embedded default, else `flask worker`.
    "DELIVERY_IN_WEB": True,
    "DELIVERY_BATCH_SIZE": 500,
    "DELIVERY_LEASE_SECONDS": 60,
    "DELIVERY_POLL_SECONDS": 2,
    "DELIVERY_PUSH_BACKEND": "webpush",
    "DELIVERY_EMAIL_BACKEND": "email",
    # Login protection.
    "LOGIN_RATE_LIMIT": "10 per minute",
    "REQUIRE_TOTP_FOR_PUBLISHERS": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Abuse limits per client on the public endpoints (core/rate_limits.py); "" = no limit.
    "RATE_LIMIT_SUBSCRIBE": "10 per minute; 60 per hour",
    "RATE_LIMIT_CONFIRM": "30 per minute",
    "RATE_LIMIT_MANAGE": "60 per minute",
    "RATE_LIMIT_PUSH_API": "60 per minute; 600 per hour",
    "RATE_LIMIT_FEEDS": "600 per minute",
    # Proxies in front that append X-Forwarded-For (werkzeug ProxyFix; the nearest one's
    # X-Forwarded-Proto is trusted too); 0 = none.
    "PROXY_FIX_X_FOR": 0,
    # At most one sign-up mail per mailbox in this many seconds (subscribers/mail_throttle.py); 0 = no limit.
    "SIGNUP_MAIL_WINDOW_SECONDS": 600,
    # Cookies.
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    # Flask-WTF's strict https mode demands a Referer from this site on every form post, which
    # browsers never send under our Referrer-Policy: no-referrer (core/security.py).
    "WTF_CSRF_SSL_STRICT": False,
    # Email (subscribers/mailer.py): "console" writes .eml files for development, "smtp" sends.
    "MAIL_BACKEND": "console",
    "MAIL_CONSOLE_DIR": None,
    "MAIL_FROM": "Signaal <signaal@example.org>",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "SMTP_TLS": "none",
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_TIMEOUT_SECONDS": 10,
    # Alert mails (delivery/mail_sender.py): kept-open SMTP connections, and mails a second (0 = no limit).
    "MAIL_POOL_SIZE": 4,
    "MAIL_RATE_PER_SECOND": 0,
    # Email sign-up: how long a confirmation link stays valid.
    "CONFIRM_TOKEN_HOURS": 48,
    # Retention (core/purge.py and the jobs it lists; flask purge): 0 keeps for ever.
    "DELIVERY_RETENTION_DAYS": 90,
    "AUDIT_RETENTION_DAYS": 365,
    "UNCONFIRMED_EMAIL_RETENTION_HOURS": 72,
    "STALE_PUSH_RETENTION_DAYS": 60,
    # Operations (ops/): logs, health checks, metrics.
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "HEALTH_SCHEDULER_MAX_AGE_SECONDS": 60,
    "HEALTH_DATABASE_TIMEOUT_SECONDS": 2,
    "HEALTH_WORKER_MAX_AGE_SECONDS": 60,
    "METRICS_TOKEN": "",
    "METRICS_WORKER_PORT": 0,
    "METRICS_WORKER_HOST": "127.0.0.1",
}


def load_settings(app: Flask, override: dict[str, Any] | None) -> None:
    """Apply the four layers in order; later layers win."""
    app.config.from_mapping(DEFAULTS)
    path = config_file(app)
    if os.path.exists(path):
        app.config.from_file(path, load=tomllib.load, text=False)
    app.config.from_prefixed_env("SIGNAAL")
    if override:
        app.config.from_mapping(override)
    _derive(app)


def config_file(app: Flask) -> str:
    """The TOML file settings are read from (it need not exist)."""
    return os.environ.get("SIGNAAL_CONFIG") or os.path.join(app.instance_path, "config.toml")


def _derive(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'signaal.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", postgresql_engine_options(app.config))
    if not app.config["UPLOAD_DIR"]:
        app.config["UPLOAD_DIR"] = str(instance / "photos")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance)


def postgresql_engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """A bounded connect, and pooled connections checked before use.

    After a database restart or failover every pooled connection is dead; without the check
    each would fail one request (or one worker batch) before the pool replaced it.
    """
    return {
        "pool_pre_ping": True,
        "connect_args": {"connect_timeout": connect_timeout(config)},
    }


def connect_timeout(config: Mapping[str, Any]) -> int:
    """DATABASE_CONNECT_TIMEOUT_SECONDS as libpq takes it: whole seconds, at least 1 (0 would wait forever)."""
    return max(1, int(float(config["DATABASE_CONNECT_TIMEOUT_SECONDS"])))


def normalise_database_url(url: str) -> str:
    """Let operators write postgresql://; we drive it with psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in instance/, so sessions survive restarts in development.

    Production sets SECRET_KEY explicitly; `flask check` warns when it does not.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
