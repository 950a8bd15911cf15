"""Telegram ids as we store them: a keyed hash in place of every chat id.

A chat id is personal data (it finds the person on Telegram), so no column keeps it in plain
text; it is kept only encrypted, as a conversation's address or an outbox item's recipient,
and read from there when a Bot API call needs it (deleting or editing a message).

Telegram numbers messages per chat, so a message id is unique only beside its chat. Where we
key a row by a message (`messages.channel_message_id` for what we sent, outbox dedupe keys for
an edit or a clear), the chat is named by `chat_tag`: the vault's lookup hash (HMAC-SHA256,
the helper that finds phone numbers) of the chat id, cut to 128 bits so a key fits the 64
characters of `channel_message_id`. What the person sent is keyed "u{update_id}:m{message_id}"
(or "u{update_id}" for a button press): update ids are the bot's own sequence, not a chat's,
and unique on their own.

Every hashed form starts with a letter a plain id never has ("c", "h"), so a rewrite of old
rows (migration 0006) can tell them apart and is safe to run again.
"""

from __future__ import annotations

from case_store.crypto import Vault, current_vault

TAG_CHARS = 32  # hex characters of the HMAC kept: 128 bits
EDIT_PREFIX = "tg:edit:"


def chat_tag(chat_id: str | int, vault: Vault | None = None) -> str:
    """A keyed hash of a Telegram chat id, after a "c": names the chat, never reveals it."""
    digest = (vault or current_vault()).lookup_hash(f"telegram-chat:{chat_id}")
    return f"c{digest[:TAG_CHARS]}"


def sent_message_key(chat_id: str | int, message_id: int | str, vault: Vault | None = None) -> str:
    """Our key for a message in a chat: "c{hash of the chat}:m{Telegram's message id}"."""
    return f"{chat_tag(chat_id, vault)}:m{int(message_id)}"


def edit_dedupe_key(sent_key: str) -> str:
    """The outbox key that shows a pressed button on one of our messages, once.

    It is our key for that message (`sent_message_key`) after "tg:edit:"; the edit itself is
    addressed by the message, not the chat, so its chat id is only in its encrypted payload.
    """
    return f"{EDIT_PREFIX}{sent_key}"


def edited_message_key(dedupe_key: str) -> str | None:
    """Our key for the message an edit is shown on; None when `dedupe_key` is not an edit's."""
    return dedupe_key.removeprefix(EDIT_PREFIX) if dedupe_key.startswith(EDIT_PREFIX) else None


def callback_dedupe_key(callback_id: str, vault: Vault | None = None) -> str:
    """The outbox key that answers a button press once (Telegram's query id, hashed)."""
    digest = (vault or current_vault()).lookup_hash(f"telegram-callback:{callback_id}")
    return f"tg:cb:h{digest[:TAG_CHARS]}"
