"""Retention: past the service profile's periods, personal data goes and anonymous counts stay.

Rows are anonymised in place rather than deleted wherever a figure depends on them: a purged
referral keeps its reference, source, channel, status, flags and dates, so the board figures
for any period are the same before and after a purge. Each kind works in small batches, one
short transaction each, so the service keeps running; every kind only picks rows that still
hold personal data, so a second run removes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, exists, or_, select, update
from sqlalchemy.orm import Session

from case_store.db import Database
from case_store.lifecycle import NOT_TAKEN_UP_MOVES
from case_store.models import (
    AuditEntry,
    Conversation,
    ErasureRecord,
    Message,
    OutboxItem,
    Referral,
)
from case_store.outbox import UNSENT
from case_store.referrals import scrub_conversation, scrub_referral

KINDS = {
    "abandoned_conversation": "abandoned conversations",
    "no_contact": "referrals never taken up",
    "closed_referral": "closed referrals",
    "message_bodies": "message bodies",
    "spent_sends": "sent or cancelled sends",
    "delivery_logs": "delivery log entries",
    "dead_letters": "dead-lettered sends",
}
# Which profile period applies to each kind; dead letters fall back to message_bodies.
PERIOD_OF = {
    "abandoned_conversation": "abandoned_conversation",
    "no_contact": "no_contact",
    "closed_referral": "closed_referral",
    "message_bodies": "message_bodies",
    "spent_sends": "message_bodies",
    "delivery_logs": "delivery_logs",
    "dead_letters": "dead_letters",
}
PURGED = "purged"
MARK = "retention:"  # ErasureRecord.requested_by prefix: what retention removed, and when
CLOSED = ("closed", "completed", "withdrawn")
NOT_TAKEN_UP = ("new", "closed", "withdrawn")  # statuses a referral never taken up can have
BATCH = 200
Step = Callable[[Session, datetime, datetime, int], int]
Row = TypeVar("Row")


@dataclass(frozen=True)
class Periods:
    """How long each kind of record keeps its personal data."""

    days: Mapping[str, int]

    @classmethod
    def from_profile(cls, retention_days: Mapping[str, int]) -> Periods:
        """The periods of a profile's [retention] table; a missing period is an error."""
        days = dict(retention_days)
        days.setdefault("dead_letters", days.get("message_bodies", 0))
        missing = sorted(set(PERIOD_OF.values()) - set(days))
        if missing:
            raise ValueError(f"the service profile's [retention] lacks: {', '.join(missing)}")
        return cls(days)

    def cutoff(self, kind: str, now: datetime) -> datetime:
        """Records of `kind` older than this lose their personal data."""
        return now - timedelta(days=self.days[PERIOD_OF[kind]])


def purge(db: Database, periods: Periods, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Apply every period; how many records of each kind lost their personal data."""
    return {
        kind: _in_batches(db, step, periods.cutoff(kind, now), now, batch)
        for kind, step in STEPS.items()
    }


def _in_batches(db: Database, step: Step, cutoff: datetime, now: datetime, batch: int) -> int:
    """Run one kind's step in short transactions until a batch comes back short."""
    total = 0
    while True:
        with db.transaction() as session:
            done = step(session, cutoff, now, batch)
        total += done
        if done < batch:
            return total


# -- conversations ----------------------------------------------------------------------------
def _abandoned(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Conversations idle past the period with no live referral (never finished, or erased)."""
    query = select(Conversation).where(
        Conversation.status != PURGED,
        Conversation.last_activity_at < cutoff,
        or_(Conversation.referral_id.is_(None), Conversation.status == "deleted"),
    )
    rows = _locked(session, query.order_by(Conversation.id).limit(limit))
    for conversation in rows:
        forget_conversation(session, conversation)
        _mark(session, "abandoned_conversation", now, conversation_id=conversation.id)
    return len(rows)


def forget_conversation(session: Session, conversation: Conversation) -> None:
    """Remove the person from a conversation; keep its channel, dates, urgency and opt-out.

    An opted-out conversation keeps its keyed address hash (not the address) so a STOP is
    still honoured if the same number writes again; any other gets a meaningless one.
    """
    scrub_conversation(session, conversation.id)
    _blank_sends(session, OutboxItem.conversation_id == conversation.id, limit=None)
    conversation.address = ""
    conversation.state = {"opted_out": True} if conversation.opted_out else {}
    conversation.step, conversation.status = None, PURGED
    if not conversation.opted_out:
        conversation.address_hash = f"{PURGED}:{conversation.id}"


# -- referrals --------------------------------------------------------------------------------
def _referrals(kind: str, condition: ColumnElement[bool]) -> Step:
    """A step that purges referrals meeting `condition`, untouched since the cutoff."""

    def step(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
        done = select(ErasureRecord.referral_reference).where(
            ErasureRecord.requested_by.startswith(MARK),
            ErasureRecord.referral_reference.is_not(None),
        )
        query = select(Referral).where(
            condition, Referral.updated_at < cutoff, Referral.reference.not_in(done)
        )
        rows = _locked(session, query.order_by(Referral.id).limit(limit))
        for referral in rows:
            forget_referral(session, referral)
            _mark(session, kind, now, referral_reference=referral.reference)
        return len(rows)

    return step


def forget_referral(session: Session, referral: Referral) -> None:
    """Remove a referral's personal data everywhere; keep what the board figures count."""
    scrub_referral(session, referral, PURGED)
    linked = select(Conversation).where(
        Conversation.referral_id == referral.id, Conversation.status != PURGED
    )
    for conversation in session.scalars(linked):
        forget_conversation(session, conversation)


# -- messages and sends -----------------------------------------------------------------------
def _message_bodies(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Blank the text of messages older than the period (the rows stay, for counts)."""
    ids = select(Message.id).where(Message.body.is_not(None), Message.created_at < cutoff)
    chosen = list(session.scalars(ids.order_by(Message.id).limit(limit)))
    session.execute(update(Message).where(Message.id.in_(chosen)).values(body=None))
    return len(chosen)


def _delivery_logs(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Drop provider ids (a Twilio SID, a Telegram chat) from old messages; statuses stay."""
    ids = select(Message.id).where(
        Message.channel_message_id.is_not(None), Message.created_at < cutoff
    )
    chosen = list(session.scalars(ids.order_by(Message.id).limit(limit)))
    session.execute(update(Message).where(Message.id.in_(chosen)).values(channel_message_id=None))
    return len(chosen)


def _spent_sends(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Sent or cancelled sends are copies of messages: their recipient and text go with them."""
    finished = OutboxItem.status.in_(("sent", "cancelled"))
    return _blank_sends(session, finished & (OutboxItem.created_at < cutoff), limit)


def _dead_letters(session: Session, cutoff: datetime, now: datetime, limit: int) -> int:
    """Dead-lettered sends, once staff have had the period to see them."""
    dead = (OutboxItem.status == "dead") & (OutboxItem.created_at < cutoff)
    return _blank_sends(session, dead, limit)


def _blank_sends(session: Session, condition: ColumnElement[bool], limit: int | None) -> int:
    """Blank recipient, text and error of finished sends; status, kind and dates stay."""
    query = select(OutboxItem.id).where(
        condition,
        OutboxItem.recipient_hash != "",
        OutboxItem.status.not_in(UNSENT),
    )
    chosen = list(session.scalars(query.order_by(OutboxItem.id).limit(limit)))
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(chosen))
        .values(recipient="", recipient_hash="", payload={}, last_error=None)
    )
    return len(chosen)


# -- helpers ----------------------------------------------------------------------------------
def _locked(session: Session, query: Select[Row]) -> list[Row]:
    """Rows of `query`, skipping any a live request holds (PostgreSQL); they wait a day."""
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def _mark(session: Session, kind: str, now: datetime, **about: object) -> None:
    """Record that retention removed something, and when: never what it was."""
    session.add(ErasureRecord(requested_by=f"{MARK}{kind}", erased_at=now, **about))


def never_taken_up() -> ColumnElement[bool]:
    """Referrals no one took up: never contacted, and never moved on from `new` but to close.

    `first_contact_at` is set by the first move into casework (case_store/lifecycle.py); the
    status history in the audit trail settles it for referrals moved on before that was so
    (new -> assessing, say). A closed case that was worked keeps the service users' period.
    """
    moved_on = exists().where(
        AuditEntry.referral_reference == Referral.reference,
        AuditEntry.action == "status",
        AuditEntry.detail.not_in(NOT_TAKEN_UP_MOVES),
    )
    return Referral.first_contact_at.is_(None) & Referral.status.in_(NOT_TAKEN_UP) & ~moved_on


STEPS: dict[str, Step] = {
    "no_contact": _referrals("no_contact", never_taken_up()),
    "closed_referral": _referrals("closed_referral", Referral.status.in_(CLOSED)),
    "abandoned_conversation": _abandoned,
    "message_bodies": _message_bodies,
    "spent_sends": _spent_sends,
    "delivery_logs": _delivery_logs,
    "dead_letters": _dead_letters,
}
