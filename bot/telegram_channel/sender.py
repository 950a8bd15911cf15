"""Outbox deliveries for Telegram: messages, button answers, edits and clearing a chat."""

from __future__ import annotations

from typing import Any

from bot.telegram_channel.client import TelegramClient
from case_store.telegram_ids import sent_message_key
from webhooks.delivery import Delivered, SendError


class TelegramSender:
    """Sends outbox items of kind "telegram" through the Bot API.

    The chat id comes from the item's encrypted recipient (or encrypted payload, for an edit);
    what a sent message is recorded under names the chat by a keyed hash only.
    """

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
        if method == "clear_chat":
            return self.clear_chat(recipient, payload)
        message_id = self.client.send_message(
            recipient, payload["text"], payload.get("buttons") or (), payload.get("step")
        )
        return Delivered(sent_message_key(recipient, message_id), "sent")

    def clear_chat(self, chat_id: str, payload: dict[str, Any]) -> Delivered:
        """Delete the chat's messages, then say how it went (words rendered at the press).

        Telegram refusing (a bad request) is told to the person kindly, not retried; a network
        error or a flood limit is retried by the outbox, and deleting again is harmless, as
        Telegram skips messages that are already gone. A blocked bot sends nothing more.
        """
        ids = [int(i) for i in payload["message_ids"]]
        texts = payload["texts"]
        deleted = False
        if ids:
            try:
                deleted = self.client.delete_messages(chat_id, ids)
            except SendError as exc:
                if exc.opted_out or not exc.permanent:
                    raise
        message_id = self.client.send_message(chat_id, texts["done" if deleted else "failed"])
        return Delivered(sent_message_key(chat_id, message_id), "sent")
