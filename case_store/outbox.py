"""The outbox: every send (SMS, Telegram, email) is a row here first, in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from case_store.conversations import address_hash
from case_store.models import OutboxItem


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


def cancel_pending_for(session: Session, conversation_id: int) -> None:
    """Stop every queued send to a conversation (opt-out, erasure)."""
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.conversation_id == conversation_id, OutboxItem.status == "pending")
        .values(status="cancelled")
    )


MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 3600.0
PACING_SECONDS = {"sms": 1.0, "telegram": 1.0, "email": 0.0}


def _in_flight_recipients(now: datetime) -> Select[str]:
    """Recipients with a send under a live lease: their next message must wait."""
    return select(OutboxItem.recipient_hash).where(
        OutboxItem.status == "sending", OutboxItem.lease_until > now
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Rows that are due: pending and due, or sending with an expired lease."""
    pending = and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
    stale = and_(OutboxItem.status == "sending", OutboxItem.lease_until <= now)
    return or_(pending, stale)


def claim(session: Session, now: datetime, lease_seconds: float, limit: int = 10) -> list[int]:
    """Lease up to `limit` due sends, the oldest first for each recipient; ids we won."""
    earliest = (
        select(func.min(OutboxItem.id))
        .where(OutboxItem.status.in_(("pending", "sending")))
        .group_by(OutboxItem.recipient_hash)
    )
    candidates = list(
        session.scalars(
            select(OutboxItem.id)
            .where(
                _claimable(now),
                OutboxItem.id.in_(earliest),
                OutboxItem.recipient_hash.not_in(_in_flight_recipients(now)),
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(limit)
        )
    )
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


def mark_sent(session: Session, item: OutboxItem, now: datetime) -> None:
    """Record a successful send and space out the recipient's next one."""
    item.status, item.sent_at, item.lease_until, item.last_error = "sent", now, None, None
    gap = PACING_SECONDS.get(item.kind, 0.0)
    if gap:
        session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.recipient_hash == item.recipient_hash,
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at < now + timedelta(seconds=gap),
            )
            .values(next_attempt_at=now + timedelta(seconds=gap))
        )


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
    item.last_error, item.lease_until = error[:200], None
    if permanent or item.attempts >= MAX_ATTEMPTS:
        item.status = "dead"
        return
    delay = retry_after if retry_after is not None else retry_delay(item.attempts, rand)
    item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)


def mark_cancelled(item: OutboxItem, reason: str) -> None:
    """Drop a send that must not go (the person opted out or erased their data)."""
    item.status, item.lease_until, item.last_error = "cancelled", None, reason
