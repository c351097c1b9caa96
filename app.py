"""Signaal: the application factory. `flask --app app run` and friends start here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from core import api_errors, csrf_refusal, rate_limits, routing
from core.config import load_settings
from core.db import db, render_migration_type
from core.extensions import babel, csrf, limiter, migrate
from core.i18n import install_template_helpers, select_locale
from core.scheduler import Job
from core.security import install_headers, install_input_guards
from ops import request_log
from ops.logs import configure_logging


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    routing.install(app)  # before any blueprint: rules take their converters when added
    load_settings(app, config)
    configure_logging(app)
    request_log.install(app)  # first, so the request id and the clock start before any other hook

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory="migrations",
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    rate_limits.install(app)
    api_errors.install(app)
    csrf_refusal.install(app)
    install_headers(app)
    install_input_guards(app)
    install_template_helpers(app)

    _register_models()
    _register_blueprints(app)
    _register_cli(app)
    return app


def _register_models() -> None:
    # Imported for their side effect of defining tables on db.metadata (Alembic sees them).
    import alerts.audit
    import alerts.models  # noqa: F401
    import delivery.models  # noqa: F401
    import editors.models  # noqa: F401
    import ops.heartbeat  # noqa: F401
    import subscribers.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from alerts.api import bp as alerts_api_bp
    from alerts.editor_views import bp as editor_bp
    from alerts.photo_views import bp as photos_bp
    from alerts.public_views import bp as public_bp
    from editors.account_views import bp as account_bp
    from editors.views import bp as auth_bp
    from feeds.cap_views import bp as cap_bp
    from feeds.embed_views import bp as embed_bp
    from feeds.openapi_views import bp as openapi_bp
    from feeds.views import bp as feeds_bp
    from ops.health import bp as health_bp
    from ops.metrics import bp as metrics_bp
    from regions.api import bp as regions_api_bp
    from subscribers.push_api import bp as push_api_bp
    from subscribers.selfservice import bp as selfservice_bp
    from subscribers.subscribe_views import bp as subscribe_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(editor_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(regions_api_bp)
    app.register_blueprint(selfservice_bp)
    app.register_blueprint(push_api_bp)
    app.register_blueprint(subscribe_bp)
    app.register_blueprint(photos_bp)
    app.register_blueprint(alerts_api_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(cap_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)


def periodic_jobs(app: Flask) -> list[tuple[Job, int]]:
    """Every periodic job, in one list; the scheduler only fires them."""
    from alerts.sweeps import expire_due, publish_due
    from delivery.claims import drop_stale
    from subscribers.mail_throttle import drop_expired

    every = app.config["SCHEDULER_INTERVAL_SECONDS"]
    sweeps: list[tuple[Job, int]] = [
        (publish_due, every),
        (expire_due, every),
        (drop_stale, every),
        (drop_expired, every),
    ]
    return sweeps + [(job, RETENTION_INTERVAL_SECONDS) for job in retention_jobs()]


# Retention windows are days and hours: an hourly purge is punctual enough, and each run is cheap.
RETENTION_INTERVAL_SECONDS = 3600


def retention_jobs() -> list[Callable[[], int]]:
    """What is deleted once it is past its retention window; `flask purge` runs these too."""
    from alerts.retention import purge_audit
    from delivery.push_liveness import purge_stale_pushes
    from delivery.retention import purge_deliveries
    from ops.heartbeat import purge_dead_workers
    from subscribers.retention import purge_unconfirmed_emails

    # Stale pushes first: their evidence is in outbox rows the delivery purge may take.
    return [purge_stale_pushes, purge_deliveries, purge_audit, purge_unconfirmed_emails, purge_dead_workers]


def _register_cli(app: Flask) -> None:
    from alerts.demo import demo_cli
    from core import commands
    from core.purge import purge_command
    from delivery.cli import worker_command
    from editors.cli import editors_cli
    from ops.check import check_command
    from subscribers.vapid_cli import vapid_cli

    commands.register(app, periodic_jobs)
    app.cli.add_command(purge_command(retention_jobs))
    app.cli.add_command(editors_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(vapid_cli)
    app.cli.add_command(check_command)
