"""`rj-frontdoor user ...`: co-ordinator logins for the dashboard."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.models import StaffUser
from case_store.users import (
    UserError,
    create_user,
    list_users,
    require_user,
    set_active,
    set_password,
)
from webhooks.config import load_settings
from webhooks.runtime import Runtime, build_runtime

# How the audit trail names whoever runs these commands on the server.
ACTOR = "cli"

password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)


@click.group()
def user() -> None:
    """Dashboard logins."""


@user.command("create")
@click.argument("email")
@password_stdin_option
def user_create(email: str, password_stdin: bool) -> None:
    """Create a co-ordinator login for EMAIL."""
    password = _read_password(password_stdin)
    runtime = build_runtime(load_settings())
    now = runtime.conversations.clock()
    address = _change(runtime, "login created", lambda s: create_user(s, email, password, now))
    click.echo(f"created a dashboard login for {address}")


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Stop EMAIL logging in; a session they hold ends at its next request."""
    runtime = build_runtime(load_settings())
    address = _change(runtime, "login disabled", lambda s: set_active(s, email, False))
    click.echo(f"disabled the dashboard login for {address}")


@user.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Let EMAIL log in again."""
    runtime = build_runtime(load_settings())
    address = _change(runtime, "login enabled", lambda s: set_active(s, email, True))
    click.echo(f"enabled the dashboard login for {address}")


@user.command("password")
@click.argument("email")
@password_stdin_option
def user_password(email: str, password_stdin: bool) -> None:
    """Set a new password for EMAIL; the sessions they hold end at their next request."""
    runtime = build_runtime(load_settings())
    _stop_unless_known(runtime, email)
    password = _read_password(password_stdin)
    address = _change(runtime, "password reset", lambda s: set_password(s, email, password))
    click.echo(f"set a new password for {address}; their sessions have ended")


@user.command("list")
def user_list() -> None:
    """Every login: email, active or disabled, last login (never a password hash)."""
    runtime = build_runtime(load_settings())
    with runtime.db.transaction() as session:
        lines = [_listing(row) for row in list_users(session)]
    if not lines:
        click.echo("no dashboard logins yet", err=True)
    for line in lines:
        click.echo(line)


def _read_password(from_stdin: bool) -> str:
    """The password: one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """A refused change becomes a clear error on stderr and a non-zero exit status."""
    try:
        yield
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


def _stop_unless_known(runtime: Runtime, email: str) -> None:
    """Fail before asking for a password if EMAIL has no login."""
    with _as_click_errors(), runtime.db.transaction() as session:
        require_user(session, email)


def _change(runtime: Runtime, action: str, change: Callable[[Session], StaffUser]) -> str:
    """Apply `change` to one login and audit it as `action`, in one transaction; its email."""
    with _as_click_errors(), runtime.db.transaction() as session:
        changed = change(session)
        now = runtime.conversations.clock()
        audit(session, ACTOR, action, None, now, f"staff #{changed.id}")
        address = changed.email
    return address


def _listing(row: StaffUser) -> str:
    """One login as a line of `user list`: email, state, last login."""
    state = "active" if row.active else "disabled"
    last = f"last login {row.last_login_at:%Y-%m-%d %H:%M} UTC" if row.last_login_at else "never"
    return f"{row.email}\t{state}\t{last}"
