"""Telegram updates as the Bot API sends them, and a person who taps buttons or types."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH
from tests.stubs.telegram_api import TelegramStub
from webhooks.runtime import Runtime, build_worker

TOKEN = "123456:TEST-token-for-the-stub"
SECRET = "webhook-secret_0123456789"
CHAT = 900123
_ids = count(1000)
# The SMS happy path, with a phone number typed (Telegram does not know it) and /start.
TELEGRAM_PATH = ["/start", *HAPPY_PATH[1:17], "07700 900123", *HAPPY_PATH[18:]]


def telegram_env(api_base_url: str) -> dict[str, str]:
    """The environment that turns the Telegram channel on."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": api_base_url,
    }


def person(chat: int = CHAT) -> dict[str, Any]:
    """The person writing."""
    return {"id": chat, "is_bot": False, "first_name": "Person"}


def text_update(
    text: str, chat: int = CHAT, update_id: int | None = None, chat_type: str = "private"
) -> dict[str, Any]:
    """An update carrying a typed message."""
    return {
        "update_id": update_id or next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": 1795430000,
            "from": person(chat),
            "chat": {"id": chat, "type": chat_type, "first_name": "Person"},
            "text": text,
        },
    }


def sticker(chat: int = CHAT) -> dict[str, Any]:
    """An update carrying something that is not text."""
    update = text_update("x", chat)
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "f",
        "file_unique_id": "u",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    return update


def button_update(bot_message: dict[str, Any], label: str, chat: int = CHAT) -> dict[str, Any]:
    """An update for pressing the button labelled `label` on a message the bot sent."""
    markup = bot_message["reply_markup"]
    button = next(b for row in markup["inline_keyboard"] for b in row if b["text"] == label)
    message = {
        "message_id": bot_message["message_id"],
        "date": 1795430000,
        "chat": {"id": chat, "type": "private"},
        "text": bot_message["text"],
        "from": {"id": 4242, "is_bot": True, "first_name": "RJ Hub"},
        "reply_markup": markup,
    }
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": person(chat),
            "chat_instance": "ci",
            "data": button["callback_data"],
            "message": message,
        },
    }


def last_bot_message(stub: TelegramStub, chat: int = CHAT) -> dict[str, Any]:
    """The newest message the bot sent to `chat`, as the stub answered it."""
    return [m for m in stub.sent if m["chat"]["id"] == chat][-1]


def answer(stub: TelegramStub, send: Callable[[dict[str, Any]], object], reply: str) -> None:
    """Tap the button labelled `reply` on the last question if there is one; else type it."""
    last = last_bot_message(stub)
    labels = [
        b["text"]
        for row in (last.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    send(button_update(last, reply) if reply in labels else text_update(reply))


def rt(app: Flask) -> Runtime:
    """The app's runtime."""
    runtime: Runtime = app.extensions["rj"]
    return runtime


def post(client: FlaskClient, update: dict[str, Any], secret: str = SECRET) -> int:
    """Deliver an update to the webhook as Telegram does."""
    response = client.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    return response.status_code


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker send everything due, stepping past the per-chat pacing."""
    worker = app.extensions.get("test_worker") or build_worker(rt(app))
    app.extensions["test_worker"] = worker  # one worker (one Bot) per app, as in production
    for _ in range(30):
        sent = worker.run_once()
        clock.advance(seconds=1.1)
        if not sent and not worker.run_once():
            return


def converse(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock, replies: list[str]
) -> list[dict[str, Any]]:
    """Tap or type each reply after the bot's messages have arrived; the updates sent."""
    sent = [text_update(replies[0])]
    post(client, sent[0])
    deliver(app, clock)
    for reply in replies[1:]:
        answer(stub, sent.append, as_label(stub, reply))
        post(client, sent[-1])
        deliver(app, clock)
    return sent


def as_label(stub: TelegramStub, reply: str) -> str:
    """A numbered answer becomes the label of that button, so the person taps it."""
    markup = last_bot_message(stub).get("reply_markup") or {}
    buttons = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    if reply.isdigit() and 0 < int(reply) <= len(buttons):
        return buttons[int(reply) - 1]
    return next((b for b in buttons if b.lower().startswith(reply.lower())), reply)
