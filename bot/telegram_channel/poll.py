"""Long polling, for deployments without a public HTTPS address: the same handler as the webhook."""

from __future__ import annotations

import logging
import threading

from bot.telegram_channel.client import TelegramClient
from bot.telegram_channel.updates import UpdateHandler
from webhooks.delivery import SendError

log = logging.getLogger(__name__)


def poll(
    client: TelegramClient, handler: UpdateHandler, stop: threading.Event, timeout: int = 25
) -> int:
    """Fetch and handle updates until `stop` is set; the number handled."""
    offset: int | None = None
    handled = 0
    while not stop.is_set():
        try:
            updates = client.get_updates(offset, timeout=timeout)
        except SendError as exc:
            log.warning("getUpdates failed: %s", exc)
            stop.wait(exc.retry_after or 5)
            continue
        for update in updates:
            handler.handle(update)
            offset, handled = update.update_id + 1, handled + 1
    return handled
