"""The outbox: every send (SMS, Telegram, email) is a row here first, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

from case_store.conversations import ERASED, address_hash, channel_message_ids
from case_store.models import UNSENT, Conversation, Message, OutboxItem
from case_store.telegram_ids import edit_dedupe_key, edited_message_key
from case_store.types import UTCDateTime

CHAT_KINDS = ("sms", "telegram")  # sends to a person's chat address (not email)
# What erasure leaves of a send: no recipient, no text (its kind, status and dates stay).
BLANKED: dict[str, Any] = {"recipient": "", "recipient_hash": "", "payload": {}, "last_error": None}


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient: str,
    payload: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    conversation_id: int | None = None,
    message_id: int | None = None,
) -> OutboxItem | None:
    """Queue a send once per dedupe key; None when that key was queued before."""
    if session.scalar(select(OutboxItem.id).where(OutboxItem.dedupe_key == dedupe_key)):
        return None
    item = OutboxItem(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient_hash=address_hash(kind, recipient),
        recipient=recipient,
        payload=payload,
        conversation_id=conversation_id,
        message_id=message_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def enqueue_new(
    session: Session,
    *,
    kind: str,
    recipient: str,
    items: Sequence[tuple[str, dict[str, Any], int | None]],
    now: datetime,
    conversation_id: int | None = None,
) -> None:
    """Queue sends whose dedupe keys are new by construction, in one INSERT.

    `items`: (dedupe key, payload, message id) each. For replies keyed by the id of the
    message just stored: no look-up first, and no ORM object to flush per row.
    """
    if not items:
        return
    recipient_hash = address_hash(kind, recipient)
    rows = [
        {
            "kind": kind,
            "dedupe_key": key,
            "recipient_hash": recipient_hash,
            "recipient": recipient,
            "payload": payload,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for key, payload, message_id in items
    ]
    session.execute(insert(cast(Table, OutboxItem.__table__)), rows)


def cancel_pending_for(session: Session, conversation_id: int) -> None:
    """Stop every queued send to a conversation (opt-out, erasure)."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.conversation_id == conversation_id, OutboxItem.status == "pending")
        .values(status="cancelled")
    )


def forget_sends_to(session: Session, conversation: Conversation) -> None:
    """Erasure: every send to the person, whatever its state, loses its recipient and text.

    Pending and in-flight sends are cancelled (the worker reads the status before sending).
    The rows stay, with their kind, status, dedupe key and dates: anonymous facts. They are
    found by the keyed hash of the person's address, which every send to their conversation
    shares (and which uses an index); a send to the same address without a conversation (a
    Telegram "text only, please") is theirs too. So are the edits that showed their button
    presses on our messages, found by those messages' keys (`_edits_in`).
    """
    to_address = and_(
        OutboxItem.kind == conversation.channel,
        OutboxItem.recipient_hash == conversation.address_hash,
        or_(OutboxItem.conversation_id == conversation.id, OutboxItem.conversation_id.is_(None)),
    )
    edits = OutboxItem.dedupe_key.in_(_edits_in(session, conversation))
    theirs = select(OutboxItem.id).where(or_(to_address, edits))
    forget_sends(session, list(session.scalars(theirs)))


def forget_volunteer_sends(session: Session, phone_hash: str) -> None:
    """A removed volunteer: every SMS about invitations to them goes as an erased send does.

    Volunteer SMS are the only sends queued without a conversation (webhooks/conferencing.py);
    a reply to a conversation at the same number belongs to that conversation, and stays.
    """
    to_them = select(OutboxItem.id).where(
        OutboxItem.kind == "sms",
        OutboxItem.recipient_hash == phone_hash,
        OutboxItem.conversation_id.is_(None),
    )
    forget_sends(session, list(session.scalars(to_them)))


def forget_sends(session: Session, ids: list[int]) -> None:
    """Blank the recipient and text of these sends; cancel any not yet sent."""
    if not ids:
        return
    session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(BLANKED))
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(ids), OutboxItem.status.in_(UNSENT))
        .values(status="cancelled", lease_until=None, last_error="erased")
    )


def _edits_in(session: Session, conversation: Conversation) -> list[str]:
    """The dedupe keys an edit of any of our messages in a Telegram chat would have.

    An edit is addressed by the message it is shown on, not by the chat, so the person's
    address hash does not find it; its payload holds the chat id. (What the person typed has
    keys too: no edit has theirs, so they match nothing.)
    """
    if conversation.channel != "telegram":
        return []
    messages = channel_message_ids(session, conversation.id, conversation.channel)
    return [edit_dedupe_key(key) for key, _ in messages]


class SendRef(Protocol):
    """What identifies a send and its recipient: an OutboxItem, or the worker's job."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def recipient_hash(self) -> str: ...
    @property
    def dedupe_key(self) -> str: ...


def forget_if_erased(session: Session, send: SendRef) -> None:
    """A finished send to someone who has erased their data keeps no recipient or text.

    Such a send was queued by the erasure's own turn (saying it is done, offering to clear a
    Telegram chat, showing the press that confirmed it) or by a clear-chat press after it: it
    needed the address until it went. One conditional UPDATE: it changes nothing otherwise.
    """
    if send.kind not in CHAT_KINDS or not send.recipient_hash:
        return
    erased = _status_of_conversation(send).where(Conversation.status == ERASED)
    session.execute(
        update(OutboxItem).where(OutboxItem.id == send.id, exists(erased)).values(BLANKED)
    )


def _status_of_conversation(send: SendRef) -> Select[str]:
    """The status of the conversation a send went to (for an edit: the message's)."""
    edited = edited_message_key(send.dedupe_key)
    if edited is None:
        return select(Conversation.status).where(
            Conversation.channel == send.kind, Conversation.address_hash == send.recipient_hash
        )
    return (
        select(Conversation.status)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.channel == send.kind, Message.channel_message_id == edited)
    )


MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 3600.0
PACING_SECONDS = {"sms": 1.0, "telegram": 1.0, "email": 0.0}


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Rows that are due: pending and due, or sending with an expired lease."""
    pending = and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
    stale = and_(OutboxItem.status == "sending", OutboxItem.lease_until <= now)
    return or_(pending, stale)


# The sends that may go next, oldest due first: each recipient's first unsent send (so a
# person's messages go in order), when it is due (as `_claimable`) and nothing to them is
# under a live lease. The first sends are found by a walk over the partial index
# ix_outbox_unsent_recipient: one step to each next recipient, one look-up of their first
# id. So a claim's cost follows the number of people waiting, not of sends waiting (a queue
# of a thousand to one person is one step). Written as SQL because SQLite needs `INDEXED BY`
# and `CROSS JOIN` (which fixes the join order) here, and SQLAlchemy writes neither: without
# statistics, SQLite's planner starts from ix_outbox_due instead and reads every unsent row.
_CANDIDATES = """
WITH RECURSIVE walk(recipient_hash) AS (
    SELECT (SELECT lowest.recipient_hash FROM outbox AS lowest {index}
            WHERE lowest.status IN ('pending', 'sending')
            ORDER BY lowest.recipient_hash LIMIT 1)
    UNION ALL
    SELECT (SELECT step.recipient_hash FROM outbox AS step {index}
            WHERE step.status IN ('pending', 'sending')
              AND step.recipient_hash > walk.recipient_hash
            ORDER BY step.recipient_hash LIMIT 1)
    FROM walk WHERE walk.recipient_hash IS NOT NULL
),
heads(id) AS (
    SELECT (SELECT head.id FROM outbox AS head {index}
            WHERE head.status IN ('pending', 'sending')
              AND head.recipient_hash = walk.recipient_hash
            ORDER BY head.id LIMIT 1)
    FROM walk WHERE walk.recipient_hash IS NOT NULL
)
SELECT outbox.id FROM heads CROSS JOIN outbox
WHERE outbox.id = heads.id
  AND ((outbox.status = 'pending' AND outbox.next_attempt_at <= :now)
       OR (outbox.status = 'sending' AND outbox.lease_until <= :now))
  AND outbox.recipient_hash NOT IN (
      SELECT busy.recipient_hash FROM outbox AS busy
      WHERE busy.status = 'sending' AND busy.lease_until > :now)
ORDER BY outbox.next_attempt_at, outbox.id
LIMIT :limit
"""

# The recipient's sends still waiting wait at least until `at` (one step of the same index:
# left to itself, SQLite's planner would read every pending send through ix_outbox_due).
_PACE = """
UPDATE outbox {index} SET next_attempt_at = :at
WHERE recipient_hash = :recipient_hash AND status IN ('pending', 'sending')
  AND status = 'pending' AND next_attempt_at < :at
"""


def _for_each_dialect(sql: str, **types: TypeEngine[Any]) -> dict[str, TextClause]:
    """`sql` as each database needs it (SQLite with `INDEXED BY` where it says `{index}`,
    PostgreSQL without: its planner finds the partial index from the WHERE), typed."""
    binds = [bindparam(name, type_=type_) for name, type_ in types.items()]
    hints = {"sqlite": "INDEXED BY ix_outbox_unsent_recipient", "postgresql": ""}
    return {
        name: text(sql.replace("{index}", hint)).bindparams(*binds) for name, hint in hints.items()
    }


_CANDIDATES_BY_DIALECT = _for_each_dialect(_CANDIDATES, now=UTCDateTime(), limit=Integer())
_PACE_BY_DIALECT = _for_each_dialect(_PACE, at=UTCDateTime())


def claim(session: Session, now: datetime, lease_seconds: float, limit: int = 10) -> list[int]:
    """Lease up to `limit` due sends, the oldest first for each recipient; ids we won."""
    candidates_sql = _CANDIDATES_BY_DIALECT[session.get_bind().dialect.name]
    candidates = list(session.scalars(candidates_sql, {"now": now, "limit": limit}))
    if not candidates:
        return []
    won = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(candidates), _claimable(now))
        .values(
            status="sending",
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=OutboxItem.attempts + 1,
        )
        .returning(OutboxItem.id)
    )
    return sorted(won.scalars())


def mark_sent(session: Session, send: SendRef, now: datetime) -> None:
    """Record a successful send and space out the recipient's next one.

    Core statements on the session's connection: the worker runs this once a send, and has
    nothing loaded that they could leave out of date.
    """
    connection = session.connection()
    connection.execute(
        update(OutboxItem)
        .where(OutboxItem.id == send.id)
        .values(status="sent", sent_at=now, lease_until=None, last_error=None)
    )
    gap = PACING_SECONDS.get(send.kind, 0.0)
    if gap and send.recipient_hash:  # an erased send has no recipient left to pace
        pace = _PACE_BY_DIALECT[connection.dialect.name]
        connection.execute(
            pace, {"recipient_hash": send.recipient_hash, "at": now + timedelta(seconds=gap)}
        )
    forget_if_erased(session, send)


def retry_delay(attempts: int, rand: float) -> float:
    """Exponential backoff with full jitter in its upper half, capped."""
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(attempts - 1, 0))
    return ceiling * (0.5 + rand / 2)


def mark_failed(
    session: Session,
    item: OutboxItem,
    error: str,
    now: datetime,
    *,
    permanent: bool = False,
    rand: float = 0.5,
    retry_after: float | None = None,
) -> None:
    """Schedule a retry, or dead-letter after the bound (or at once when permanent)."""
    if item.status == "cancelled":  # erased while it was being sent: it must not come back
        item.lease_until = None
        return
    item.last_error, item.lease_until = error[:200], None
    if permanent or item.attempts >= MAX_ATTEMPTS:
        # a dead row is never due, so its next_attempt_at records when it died
        item.status, item.next_attempt_at = "dead", now
        session.flush()  # then the erased check below has the last word on its columns
        forget_if_erased(session, item)
        return
    delay = retry_after if retry_after is not None else retry_delay(item.attempts, rand)
    item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)


def mark_cancelled(item: OutboxItem, reason: str) -> None:
    """Drop a send that must not go (the person opted out or erased their data)."""
    item.status, item.lease_until, item.last_error = "cancelled", None, reason
