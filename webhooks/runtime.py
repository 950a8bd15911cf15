"""Build the running parts from settings: database, keys, profile, flow and services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.engine import Detector
from bot.flow import Flow, bundled_flow
from bot.profile import Profile, load_profile
from bot.service import ConversationService, utcnow
from case_store.crypto import Vault, install_vault
from case_store.db import Database
from case_store.migrate import upgrade
from case_store.references import random_reference
from case_store.retention import Periods, purge
from webhooks.conferencing import ConferenceDesk
from webhooks.config import Settings
from webhooks.delivery import Sender
from webhooks.notifications import EmailNotifier
from webhooks.worker import OutboxWorker

log = logging.getLogger(__name__)


def _default_detector() -> Detector:
    """The bundled safeguarding detector."""
    from bot.safeguarding import default_detector

    return default_detector()


@dataclass
class Runtime:
    """The service's parts, made once per process."""

    settings: Settings
    db: Database
    profile: Profile
    flow: Flow
    conversations: ConversationService
    notifier: EmailNotifier
    desk: ConferenceDesk


def install_keys(settings: Settings) -> None:
    """Install the vault for these settings (migrations that rewrite stored data need it)."""
    install_vault(Vault(settings.encryption_keys, settings.secret_key))


def build_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
    make_reference: Callable[[], str] = random_reference,
) -> Runtime:
    """Install the keys, open (and migrate) the database, load the profile and flow."""
    install_keys(settings)
    db = Database(settings.database_url)
    if migrate:
        upgrade(db.engine)
    profile = load_profile(settings.service_profile)
    flow = bundled_flow()
    notifier = EmailNotifier(settings.coordinator_emails, settings.public_base_url)
    desk = ConferenceDesk(profile, notifier)
    service = ConversationService(
        db,
        profile,
        flow,
        _default_detector(),
        notifier,
        clock=clock,
        make_reference=make_reference,
        desk=desk,
    )
    return Runtime(settings, db, profile, flow, service, notifier, desk)


def current_runtime() -> Runtime:
    """The runtime of the Flask app handling this request."""
    from flask import current_app

    runtime: Runtime = current_app.extensions["rj"]
    return runtime


def build_senders(settings: Settings) -> dict[str, Sender]:
    """A sender for each channel that is configured; email always works."""
    from bot.telegram_channel.client import TelegramClient
    from bot.telegram_channel.sender import TelegramSender
    from sms_gateway.sender import SmsSender
    from webhooks.mailer import EmailSender

    senders: dict[str, Sender] = {"email": EmailSender(settings)}
    if settings.twilio_enabled:
        senders["sms"] = SmsSender(settings)
    if settings.telegram_enabled and settings.telegram_bot_token:
        client = TelegramClient(settings.telegram_bot_token, settings.telegram_api_base_url)
        senders["telegram"] = TelegramSender(client)
    return senders


def build_worker(runtime: Runtime, *, retention: bool = True) -> OutboxWorker:
    """The outbox worker for this runtime; it applies the retention policy daily."""
    return OutboxWorker(
        runtime.db,
        build_senders(runtime.settings),
        runtime.conversations.clock,
        schedules=lambda session, now: runtime.desk.run_schedules(session, now),
        housekeeping=(lambda now: purge_expired(runtime, now)) if retention else None,
    )


def purge_expired(runtime: Runtime, now: datetime) -> dict[str, int]:
    """Apply the profile's retention periods; log and return the counts per kind."""
    counts = purge(runtime.db, Periods.from_profile(runtime.profile.retention_days), now)
    level = logging.INFO if any(counts.values()) else logging.DEBUG
    log.log(level, "retention purge", extra={"event": "retention_purge", "counts": counts})
    return counts
