"""Outbox deliveries for Telegram: messages, button answers and edits."""

from __future__ import annotations

from typing import Any

from bot.telegram_channel.client import TelegramClient
from webhooks.delivery import Delivered


class TelegramSender:
    """Sends outbox items of kind "telegram" through the Bot API."""

    def __init__(self, client: TelegramClient) -> None:
        """Use `client` for every call."""
        self.client = client

    def send(self, recipient: str, payload: dict[str, Any], callback_id: int | None) -> Delivered:
        """Carry out the call the payload names (a chat message by default)."""
        method = payload.get("method", "send_message")
        if method == "answer_callback":
            self.client.answer_callback(payload["callback_id"], payload.get("text"))
            return Delivered(None, "answered")
        if method == "edit_text":
            self.client.edit_text(payload["chat_id"], int(payload["message_id"]), payload["text"])
            return Delivered(None, "edited")
        if method == "delete_messages":
            self.client.delete_messages(recipient, [int(i) for i in payload["message_ids"]])
            return Delivered(None, "deleted")
        message_id = self.client.send_message(
            recipient, payload["text"], payload.get("buttons") or (), payload.get("step")
        )
        return Delivered(f"{recipient}:m{message_id}", "sent")
