"""`flask --app app vapid ...`: make and show the VAPID key pair (see subscribers/vapid.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .vapid import VapidError, key_file, vapid_keys, write_key_file

vapid_cli = AppGroup("vapid", help="The VAPID key pair that signs web pushes.")


@vapid_cli.command("generate")
@click.option("--force", is_flag=True, help="Replace an existing key file (every push subscription stops working).")
@click.option("--if-missing", is_flag=True, help="Do nothing, successfully, when a key file already exists.")
def generate(force: bool, if_missing: bool) -> None:
    """Create an EC P-256 key pair in instance/vapid.json (or VAPID_FILE), readable only by us."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    path = key_file(app)
    if force and if_missing:
        raise click.UsageError("--force and --if-missing contradict each other")
    if path.exists() and not force:
        if if_missing:
            return
        raise click.ClickException(f"{path} exists; keep it, or replace it with --force")
    if force and path.exists():
        click.secho(
            "Warning: a new key pair invalidates every existing push subscription: browsers "
            "refuse pushes signed with another key, and subscribers must subscribe again.",
            fg="yellow",
            err=True,
        )
    try:
        public = write_key_file(path, replace=force)
    except FileExistsError:
        # Another process wrote it between our check and our write; theirs stays.
        if if_missing:
            return
        raise click.ClickException(f"{path} exists; keep it, or replace it with --force") from None
    click.echo(f"VAPID keys written to {path}")
    click.echo(f"public key: {public}")
    if app.config.get("VAPID_PRIVATE_KEY"):
        click.secho("Note: VAPID_PRIVATE_KEY is set in the config and wins over this file.", fg="yellow", err=True)


@vapid_cli.command("public-key")
def public_key() -> None:
    """Print the public key in use (the applicationServerKey pages subscribe with)."""
    try:
        click.echo(vapid_keys().public_key)
    except VapidError as error:
        raise click.ClickException(str(error)) from error
