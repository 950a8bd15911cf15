"""Dead letters: sends the worker gave up on, shown to staff, who may try one again."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, defer

from case_store.models import (
    Conference,
    Conversation,
    ErasureRecord,
    Invitation,
    OutboxItem,
    Referral,
)
from case_store.outbox import CHAT_KINDS

_DEAD = and_(OutboxItem.status == "dead", OutboxItem.recipient_hash != "")  # not yet purged
_REFERENCE = re.compile(r"RJ-[0-9A-Z]{6}")
# webhooks/conferencing.py keys a volunteer's SMS "{why}:{invitation id}:{start, ISO 8601}"
_INVITATION_KEY = re.compile(r"(?:invite|cancelled|reminder|nudge|moved.*?):(\d+):\d{4}-\d\d-\d\dT")


def dead_letters(session: Session, limit: int) -> list[OutboxItem]:
    """Dead-lettered sends that still hold a recipient, the latest to fail first."""
    query = select(OutboxItem).where(_DEAD).options(defer(OutboxItem.payload))  # no text
    query = query.order_by(OutboxItem.next_attempt_at.desc(), OutboxItem.id.desc())
    return list(session.scalars(query.limit(limit)))


def count_dead(session: Session) -> int:
    """How many dead-lettered sends are waiting for staff."""
    return session.scalar(select(func.count()).select_from(OutboxItem).where(_DEAD)) or 0


def linked_reference(session: Session, item: OutboxItem) -> str | None:
    """The referral a send was about: its conversation's, or one its dedupe key names."""
    if item.conversation_id is not None:
        conversation = session.get(Conversation, item.conversation_id)
        if conversation is not None and conversation.referral_id is not None:
            return session.scalar(
                select(Referral.reference).where(Referral.id == conversation.referral_id)
            )
    named = [part for part in item.dedupe_key.split(":") if _REFERENCE.fullmatch(part)]
    if named:
        return session.scalar(select(Referral.reference).where(Referral.reference == named[0]))
    invitation = _INVITATION_KEY.match(item.dedupe_key) if item.kind == "sms" else None
    if invitation is None:
        return None
    return session.scalar(
        select(Referral.reference)
        .join(Conference, Conference.referral_id == Referral.id)
        .join(Invitation, Invitation.conference_id == Conference.id)
        .where(Invitation.id == int(invitation.group(1)))
    )


def retry_problem(session: Session, item: OutboxItem) -> str | None:
    """Why a send must not be tried again: "not_dead", "erased", "opted_out"; else None."""
    if item.status != "dead":
        return "not_dead"
    if not item.recipient_hash or not item.recipient:
        return "erased"  # purged by retention
    conversation = session.get(Conversation, item.conversation_id) if item.conversation_id else None
    if conversation is not None and _erased_since(session, conversation, item.created_at):
        return "erased"
    if (conversation is not None and conversation.opted_out) or _opted_out(session, item):
        return "opted_out"
    return None


def _erased_since(session: Session, conversation: Conversation, since: datetime) -> bool:
    """True when the person erased what they told us after this send was queued."""
    if conversation.status in {"deleted", "purged"}:
        return True
    erased = select(ErasureRecord.id).where(
        ErasureRecord.conversation_id == conversation.id, ErasureRecord.erased_at >= since
    )
    return session.scalar(erased.limit(1)) is not None


def _opted_out(session: Session, item: OutboxItem) -> bool:
    """True when whoever is at this chat address asked us to stop (volunteers included)."""
    if item.kind not in CHAT_KINDS:
        return False
    query = select(Conversation.id).where(
        Conversation.channel == item.kind,
        Conversation.address_hash == item.recipient_hash,
        Conversation.opted_out.is_(True),
    )
    return session.scalar(query.limit(1)) is not None


def retry_dead(session: Session, item: OutboxItem, now: datetime) -> str | None:
    """Put a dead-lettered send back in the queue, due now; why not, when it must not go."""
    problem = retry_problem(session, item)
    if problem is not None:
        return problem
    revived = session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == item.id, OutboxItem.status == "dead")  # one click wins
        .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
        .returning(OutboxItem.id)
    )
    return None if revived.scalar() is not None else "not_dead"
