"""`flask --app app editors ...`: the only way to make and manage editor accounts."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.db import db

from . import totp
from .auth import normalise_email
from .models import ApiToken, Editor, Role
from .passwords import PasswordTooShort, hash_password
from .scopes import DEFAULT_SCOPES, Scope, join_scopes, scopes_for_role
from .tokens import issue_token, revoke, token_scopes, tokens_query

editors_cli = AppGroup("editors", help="Editor accounts and their API tokens.")

ROLE_CHOICE = click.Choice([role.value for role in Role])
SCOPE_CHOICE = click.Choice([scope.value for scope in Scope])


@editors_cli.command("create")
@click.argument("email")
@click.option("--role", "role_name", type=ROLE_CHOICE, required=True, help="What the account may do.")
def create(email: str, role_name: str) -> None:
    """Create an account. The password is asked for, or read as one line from stdin."""
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or not domain or len(email) > 254:
        raise click.ClickException(f"{email!r} is not an email address.")
    if _find(email) is not None:
        raise click.ClickException(f"An account for {email} already exists.")
    try:
        password_hash = hash_password(_read_password())
    except PasswordTooShort as error:
        raise click.ClickException(str(error)) from error
    db.session.add(Editor(email=email, password_hash=password_hash, role=Role(role_name)))
    db.session.commit()
    click.echo(f"Created {email} ({role_name}).")


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    # Piped input lets scripts and provisioning create accounts without a terminal.
    return sys.stdin.readline().rstrip("\r\n")


@editors_cli.command("token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, shown in `tokens`.")
@click.option(
    "--scope",
    "scope_names",
    type=SCOPE_CHOICE,
    multiple=True,
    help=f"What the token may do; repeat for several. Default: {join_scopes(DEFAULT_SCOPES)} (read only).",
)
def token(email: str, name: str, scope_names: tuple[str, ...]) -> None:
    """Make an API token and print it. It is shown this once and cannot be shown again."""
    editor = _require(email)
    if not editor.active:
        raise click.ClickException(f"{editor.email} is deactivated.")
    scopes = {Scope(value) for value in scope_names} or DEFAULT_SCOPES
    beyond_role = scopes - scopes_for_role(editor.role)
    if beyond_role:
        # Allowed, so a token can be ready before a promotion; the role is checked at every request.
        click.echo(
            f"Note: {join_scopes(beyond_role)} does nothing while {editor.email} is {editor.role.value}.", err=True
        )
    click.echo(issue_token(editor, name, scopes))


@editors_cli.command("tokens")
@click.argument("email", required=False)
def tokens(email: str | None) -> None:
    """List the tokens of one account, or of all (never the secrets)."""
    owner = _require(email) if email else None
    click.echo("id\tprefix\tname\teditor\tscopes\tcreated\tlast used\trevoked")
    for row in db.session.scalars(tokens_query(owner)):
        fields = [str(row.id), row.prefix, row.name or "-", row.editor.email, join_scopes(token_scopes(row)) or "-"]
        click.echo("\t".join([*fields, _when(row.created_at), _when(row.last_used_at), _when(row.revoked_at)]))


@editors_cli.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke a token by its id (see `tokens`)."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"No token with id {token_id}.")
    if not revoke(row):
        click.echo(f"Token {token_id} was already revoked at {_when(row.revoked_at)}.")
        return
    click.echo(f"Revoked token {token_id} ({row.prefix}…).")


@editors_cli.command("reset-totp")
@click.argument("email")
def reset_totp(email: str) -> None:
    """Switch an account's two-step login off (a lost phone); they can enrol again after login."""
    editor = _require(email)
    if editor.totp_secret is None:
        click.echo(f"{editor.email} has no two-step login.")
        return
    totp.switch_off(editor)
    db.session.commit()
    click.echo(f"Two-step login of {editor.email} is off.")


@editors_cli.command("list")
def list_editors() -> None:
    """List all accounts."""
    click.echo("id\temail\trole\tactive\ttwo-step\tlocked until")
    for editor in db.session.scalars(select(Editor).order_by(Editor.id)):
        active = "yes" if editor.active else "no"
        two_step = "yes" if editor.has_totp else "no"
        locked = _when(editor.locked_until)
        click.echo(f"{editor.id}\t{editor.email}\t{editor.role.value}\t{active}\t{two_step}\t{locked}")


@editors_cli.command("set-role")
@click.argument("email")
@click.argument("role_name", metavar="ROLE", type=ROLE_CHOICE)
def set_role(email: str, role_name: str) -> None:
    """Change what an account may do; it applies to the next request, sessions included."""
    editor = _require(email)
    editor.role = Role(role_name)
    db.session.commit()
    click.echo(f"{editor.email} is now {role_name}.")


@editors_cli.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Switch an account off: its sessions and tokens stop working at once."""
    editor = _require(email)
    editor.active = False
    db.session.commit()
    click.echo(f"Deactivated {editor.email}.")


def _find(email: str) -> Editor | None:
    return db.session.scalar(select(Editor).where(Editor.email == normalise_email(email)))


def _require(email: str) -> Editor:
    editor = _find(email)
    if editor is None:
        raise click.ClickException(f"No account for {normalise_email(email)}.")
    return editor


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"
