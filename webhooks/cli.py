"""The `rj-frontdoor` command line."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime

import click
from sqlalchemy.engine import make_url

from bot.service import ConversationService, Inbound
from bot.telegram_channel.client import TelegramClient
from bot.telegram_channel.poll import poll
from bot.telegram_channel.updates import UpdateHandler
from case_store.db import Database
from case_store.migrate import upgrade
from case_store.stats import board_figures, local_days
from case_store.tokens import SCOPES, ScopeError, create_token, list_tokens, revoke_token
from webhooks.cli_privacy import keys, purge
from webhooks.cli_users import user
from webhooks.config import DEFAULT_PORT, Settings, load_settings
from webhooks.logs import configure_logging, log_services
from webhooks.reports import render_report
from webhooks.runtime import build_runtime, build_worker, install_keys
from webhooks.worker import start_worker_thread


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """rj-frontdoor: a messaging front door for Restorative Justice services."""
    configure_logging(logging.DEBUG if verbose else os.environ.get("RJ_LOG_LEVEL", "WARNING"))


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations."""
    settings = load_settings()
    install_keys(settings)  # a data migration may hash or encrypt what is stored
    upgrade(Database(settings.database_url).engine)
    click.echo("database is up to date")


@main.command()
@click.option(
    "--channel",
    type=click.Choice(["sms", "telegram"]),
    default="sms",
    help="Render replies as this channel would.",
)
def chat(channel: str) -> None:
    """Talk to the real flow in the terminal (state is saved in the database)."""
    runtime = build_runtime(load_settings())
    address = f"terminal-{uuid.uuid4().hex[:12]}"
    click.echo(f"Chatting as a {channel} user. Type a message; Ctrl-D to leave.\n")
    _chat_turn(runtime.conversations, address, channel, "hello")
    for line in _typed_lines():
        if line.strip():
            _chat_turn(runtime.conversations, address, channel, line.strip())


def _typed_lines() -> Iterator[str]:
    """Lines from a terminal prompt, or from piped input."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return


def _chat_turn(service: ConversationService, address: str, channel: str, text: str) -> None:
    """Send one line and print the replies as the channel would show them."""
    outcome = service.handle(Inbound("web", address, text, style=_style(channel)))
    for reply in outcome.replies:
        click.echo(reply.text)
        for label, number in reply.buttons:
            click.echo(f"  [{number}: {label}]")
        click.echo()


def _style(channel: str) -> str:
    """The render style for a terminal chat."""
    return "sms" if channel == "sms" else "telegram"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=int,
    help="Request threads. SQLite has one writer and Python one interpreter lock: more "
    "threads queue rather than overlap; run more processes on PostgreSQL instead.",
)
@click.option("--no-worker", is_flag=True, help="Do not run the embedded outbox worker.")
def serve(host: str, port: int, threads: int, no_worker: bool) -> None:
    """Run the web service under waitress, with the outbox worker unless --no-worker."""
    from waitress import serve as waitress_serve

    from webhooks.app import create_app

    log_services()
    settings = load_settings(port=port)
    runtime = build_runtime(settings)
    app = create_app(runtime=runtime)
    stop = threading.Event()
    if not no_worker:
        start_worker_thread(build_worker(runtime), stop)
    click.echo(
        f"rj-frontdoor listening on http://{host}:{port}/ (public URL "
        f"{settings.public_base_url}); database {_safe_url(settings.database_url)}"
    )
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="rj-frontdoor")
    finally:
        stop.set()


@main.command()
@click.option("--poll", default=1.0, show_default=True, help="Seconds between idle polls.")
def worker(poll: float) -> None:
    """Run the outbox worker alone (several may run against PostgreSQL)."""
    log_services()
    runtime = build_runtime(load_settings())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("outbox worker running; Ctrl-C to stop")
    try:
        build_worker(runtime).run_until(stop, poll)
    except KeyboardInterrupt:
        stop.set()


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


@main.group()
def token() -> None:
    """API tokens: create, list, revoke."""


@token.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    metavar="SCOPE",
    help=f"Repeat for each scope: {', '.join(SCOPES)}.",
)
def token_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token; it is printed once, alone on the last line."""
    runtime = build_runtime(load_settings())
    expanded = [s for given in scopes for s in given.replace(",", " ").split()]
    try:
        with runtime.db.transaction() as session:
            plain, row = create_token(session, name, expanded, runtime.conversations.clock())
            token_id = row.id
    except ScopeError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    click.echo(
        f"Token {token_id} for {name!r} with scopes {' '.join(sorted(set(expanded)))}. "
        "Store it now: it cannot be shown again.",
        err=True,
    )
    click.echo(plain)


@token.command("list")
def token_list() -> None:
    """List tokens (never the tokens themselves)."""
    runtime = build_runtime(load_settings())
    with runtime.db.transaction() as session:
        for row in list_tokens(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            click.echo(f"{row.id}\t{row.name}\t{row.prefix}...\t{row.scopes}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    runtime = build_runtime(load_settings())
    with runtime.db.transaction() as session:
        if not revoke_token(session, token_id, runtime.conversations.clock()):
            raise click.ClickException(f"no live token with id {token_id}")
    click.echo(f"token {token_id} revoked")


@main.command()
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (inclusive).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (inclusive).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
def report(start: datetime | None, end: datetime | None, fmt: str) -> None:
    """Board figures: referrals by source, channel and status; conferences.

    Dates are days in the service's time zone (Europe/London in England).
    """
    runtime = build_runtime(load_settings())
    period = local_days(
        start.date() if start else None, end.date() if end else None, runtime.profile.zone
    )
    with runtime.db.transaction() as session:
        figures = board_figures(session, period, runtime.conversations.clock())
    click.echo(render_report(figures, fmt, runtime.profile.service["name"]))


@main.group()
def telegram() -> None:
    """The Telegram channel: webhook set-up, or long polling."""


def _telegram_client(settings: Settings) -> TelegramClient:
    """A client for the configured bot, or a clear error."""
    if not settings.telegram_enabled or not settings.telegram_bot_token:
        raise click.ClickException("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first")
    return TelegramClient(settings.telegram_bot_token, settings.telegram_api_base_url)


@telegram.command("set-webhook")
def telegram_set_webhook() -> None:
    """Point Telegram at RJ_PUBLIC_BASE_URL/webhooks/telegram, with the secret header."""
    settings = load_settings()
    url = f"{settings.public_base_url}/webhooks/telegram"
    _telegram_client(settings).set_webhook(url, settings.telegram_webhook_secret or "")
    click.echo(f"webhook set to {url}")


@telegram.command("delete-webhook")
def telegram_delete_webhook() -> None:
    """Stop Telegram calling the webhook."""
    _telegram_client(load_settings()).delete_webhook()
    click.echo("webhook deleted")


@telegram.command("poll")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded outbox worker.")
@click.option("--timeout", default=25, show_default=True, help="Long-poll seconds.")
def telegram_poll(no_worker: bool, timeout: int) -> None:
    """Fetch updates by long polling instead of a webhook (same handling code)."""
    settings = load_settings()
    client = _telegram_client(settings)
    runtime = build_runtime(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not no_worker:
        start_worker_thread(build_worker(runtime), stop)
    client.delete_webhook()
    click.echo("polling Telegram for updates; Ctrl-C to stop")
    try:
        poll(client, UpdateHandler(runtime.conversations, runtime.db), stop, timeout)
    except KeyboardInterrupt:
        stop.set()


main.add_command(user)
main.add_command(purge)
main.add_command(keys)
