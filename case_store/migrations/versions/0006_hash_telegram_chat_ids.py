"""Telegram chat ids out of plain text: keyed hashes in message ids and outbox dedupe keys

Until now, what the bot sent on Telegram was recorded as "{chat id}:m{message id}" in
`messages.channel_message_id` (kept 183 days, even after DELETE), and three outbox dedupe
keys held the chat id or the button press's id in plain text: "tg:edit:{chat}:{message}",
"clear:{chat}:{message}" and "tg:cb:{callback id}". The app now writes a keyed hash instead
(case_store/telegram_ids.py); this data migration rewrites the rows already stored into the
same forms, so a redelivered update or a later clear still finds them:

    messages.channel_message_id  "{chat}:m{id}"            -> "c{tag}:m{id}"
    outbox.dedupe_key            "tg:edit:{chat}:{id}"     -> "tg:edit:c{tag}:m{id}"
                                 "clear:{chat}:{id}"       -> "clear:c{tag}:m{id}"
                                 "tg:cb:{callback id}"     -> "tg:cb:h{hash}"

where tag is the first 32 hex characters of the vault's lookup HMAC of "telegram-chat:{chat}"
(and hash that of "telegram-callback:{callback id}"). The HMAC key is the app's lookup key
(from RJ_SECRET_KEY), so the vault must be installed before migrating, as `serve` and
`db upgrade` do; a database with nothing to rewrite migrates without it.

The forms are written out here, not imported, so this revision keeps doing what it did if the
app's keys change form later. Hashed forms start with "c" or "h", which no plain id does, so
rows already rewritten are left alone and the rewrite is safe to run twice.

Downgrade changes nothing: a hash cannot be turned back into a chat id, and the older code
reads hashed rows well enough (clearing a chat takes only the part after ":m").

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from case_store.crypto import Vault
from case_store.migrations.rewrites import rewrite

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TAG_CHARS = 32
PURPOSE = "migration 0006 replaces stored Telegram chat ids with keyed hashes"

_SENT = re.compile(r"^(-?\d+):m(\d+)$")
_EDIT = re.compile(r"^tg:edit:(-?\d+):(\d+)$")
_CLEAR = re.compile(r"^clear:(-?\d+):(\d+)$")
_CALLBACK = re.compile(r"^tg:cb:(?!h[0-9a-f]{32}$)(.+)$")


def _hash(vault: Vault, value: str) -> str:
    """The first 128 bits of the vault's lookup HMAC, as hex."""
    return vault.lookup_hash(value)[:TAG_CHARS]


def _sent(vault: Vault, chat: str, message_id: str) -> str:
    """As case_store.telegram_ids.sent_message_key: "c{tag}:m{message id}"."""
    return f"c{_hash(vault, f'telegram-chat:{chat}')}:m{int(message_id)}"


def new_message_id(vault: Vault, old: str) -> str | None:
    """The hashed form of a sent message's id; None when it holds no plain chat id."""
    found = _SENT.match(old)
    return _sent(vault, found.group(1), found.group(2)) if found else None


def new_dedupe_key(vault: Vault, old: str) -> str | None:
    """The hashed form of an outbox dedupe key; None when it holds no plain Telegram id."""
    if found := _EDIT.match(old):
        return f"tg:edit:{_sent(vault, found.group(1), found.group(2))}"
    if found := _CLEAR.match(old):
        return f"clear:{_sent(vault, found.group(1), found.group(2))}"
    if found := _CALLBACK.match(old):
        return f"tg:cb:h{_hash(vault, f'telegram-callback:{found.group(1)}')}"
    return None


_messages = sa.table("messages", sa.column("id", sa.Integer), sa.column("channel_message_id"))
_outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("dedupe_key"))


def upgrade() -> None:
    """Rewrite stored plain Telegram chat ids (and button press ids) as keyed hashes."""
    connection = op.get_bind()
    rewrite(
        connection,
        "SELECT id, channel_message_id FROM messages"
        " WHERE channel = 'telegram' AND channel_message_id IS NOT NULL"
        " AND channel_message_id NOT LIKE 'u%' AND channel_message_id NOT LIKE 'c%'",
        _messages,
        "channel_message_id",
        (_SENT,),
        new_message_id,
        PURPOSE,
    )
    rewrite(
        connection,
        "SELECT id, dedupe_key FROM outbox"
        " WHERE dedupe_key LIKE 'tg:edit:%' OR dedupe_key LIKE 'tg:cb:%'"
        " OR dedupe_key LIKE 'clear:%'",
        _outbox,
        "dedupe_key",
        (_EDIT, _CLEAR, _CALLBACK),
        new_dedupe_key,
        PURPOSE,
    )


def downgrade() -> None:
    """Nothing to undo: a keyed hash cannot give the chat id back, and need not."""
