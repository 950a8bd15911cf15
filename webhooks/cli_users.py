"""`rj-frontdoor user ...`: co-ordinator logins for the dashboard."""

from __future__ import annotations

import sys

import click

from case_store.users import UserError, create_user
from webhooks.config import load_settings
from webhooks.runtime import build_runtime


@click.group()
def user() -> None:
    """Dashboard logins."""


@user.command("create")
@click.argument("email")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
def user_create(email: str, password_stdin: bool) -> None:
    """Create a co-ordinator login for EMAIL."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = build_runtime(load_settings())
    try:
        with runtime.db.transaction() as session:
            created = create_user(session, email, password, runtime.conversations.clock())
            address = created.email
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created a dashboard login for {address}")
