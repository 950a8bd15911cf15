"""A synchronous face on PTB's Bot, for the worker, the webhook commands and polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram_channel.loop import LOOP
from webhooks.delivery import SendError

ALLOWED_UPDATES = ("message", "callback_query")
DEFAULT_API = "https://api.telegram.org"
GLOBAL_GAP_SECONDS = 1 / 30  # Telegram's overall limit is about 30 messages a second


def callback_data(step: str | None, answer: str, version: int = 1) -> str:
    """Button data: versioned, naming the question, within Telegram's 64 bytes."""
    return f"v{version}:{step or '-'}:{answer}"[:64]


def keyboard(buttons: Sequence[Sequence[str]], step: str | None) -> InlineKeyboardMarkup | None:
    """One button a row, so long labels stay readable."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(label, callback_data=callback_data(step, answer))]
        for label, answer in buttons
    ]
    return InlineKeyboardMarkup(rows)


class TelegramClient:
    """Bot API calls made on this process's one event loop."""

    def __init__(self, token: str, api_base_url: str | None = None) -> None:
        """Prepare a Bot for `token`, talking to `api_base_url` (Telegram's by default)."""
        base = (api_base_url or DEFAULT_API).rstrip("/")
        self.bot = Bot(token, base_url=f"{base}/bot")
        self._gap_lock = threading.Lock()
        self._last_send = 0.0

    def _call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Run a Bot call, translating Telegram's errors for the outbox."""
        try:
            return LOOP.run(self._initialised(coroutine), timeout)
        except Forbidden as exc:
            raise SendError("Telegram: forbidden (bot blocked)", opted_out=True) from exc
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            raise SendError("Telegram: flood limit", retry_after=seconds) from exc
        except BadRequest as exc:
            raise SendError(f"Telegram: bad request ({exc.message[:80]})", permanent=True) from exc
        except (NetworkError, TelegramError, TimeoutError, OSError) as exc:
            raise SendError(f"Telegram: {type(exc).__name__}") from exc

    async def _initialised(self, coroutine: Any) -> Any:
        """Initialise the Bot (once: PTB makes repeats a no-op; it calls getMe), then call."""
        await self.bot.initialize()
        return await coroutine

    def _pace(self) -> None:
        """Keep all sends from this process under Telegram's overall rate."""
        with self._gap_lock:
            wait = self._last_send + GLOBAL_GAP_SECONDS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_send = time.monotonic()

    def send_message(
        self,
        chat_id: str,
        text: str,
        buttons: Sequence[Sequence[str]] = (),
        step: str | None = None,
    ) -> int:
        """Send a message, choices as an inline keyboard; Telegram's message id."""
        self._pace()
        message = self._call(
            self.bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard(buttons, step))
        )
        return int(message.message_id)

    def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        """Answer a button press (Telegram shows a spinner until we do)."""
        self._call(self.bot.answer_callback_query(callback_id, text=text))

    def edit_text(self, chat_id: str, message_id: int, text: str) -> None:
        """Rewrite a message we sent (its buttons go, as no new ones are given)."""
        self._call(self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id))

    def delete_messages(self, chat_id: str, message_ids: Sequence[int]) -> bool:
        """Delete messages (at most 100 a call; only those under 48 hours old can go)."""
        ok = True
        for start in range(0, len(message_ids), 100):
            chunk = list(message_ids[start : start + 100])
            ok = bool(self._call(self.bot.delete_messages(chat_id, chunk))) and ok
        return ok

    def set_webhook(self, url: str, secret: str) -> bool:
        """Point Telegram at our webhook, with the secret header and only what we handle."""
        return bool(
            self._call(
                self.bot.set_webhook(
                    url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
                )
            )
        )

    def delete_webhook(self) -> bool:
        """Stop webhook delivery (polling needs this)."""
        return bool(self._call(self.bot.delete_webhook()))

    def get_updates(self, offset: int | None, timeout: int = 25) -> tuple[Update, ...]:
        """Long-poll for updates after `offset`."""
        call = self.bot.get_updates(
            offset=offset,
            timeout=timeout,
            allowed_updates=list(ALLOWED_UPDATES),
            read_timeout=timeout + 10,
        )
        return tuple(self._call(call, timeout=timeout + 15))

    def close(self) -> None:
        """Close the Bot's connections (a no-op if it never opened them)."""
        LOOP.run(self.bot.shutdown())
