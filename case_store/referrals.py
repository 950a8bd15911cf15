"""The one intake: every referral, from any source, is stored here."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from case_store.models import (
    Conference,
    ConsentRecord,
    Conversation,
    Message,
    Referral,
    ReferralNote,
)
from case_store.outbox import cancel_pending_for

SPECIALIST_FLAGS = {"domestic_abuse", "sexual_harm", "under_18"}


def store_referral(
    session: Session, payload: dict[str, Any], *, reference: str, now: datetime
) -> Referral:
    """Store a validated referral payload under `reference`."""
    flags = set(payload.get("flags", []))
    referral = Referral(
        reference=reference,
        source=payload["source"],
        channel=payload["channel"],
        status="new",
        urgent=bool(payload.get("urgent")),
        specialist=bool(flags & SPECIALIST_FLAGS),
        details=payload,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    return referral


def find_referral(session: Session, reference: str, *, lock: bool = False) -> Referral | None:
    """The referral with this reference; with `lock`, held until the transaction ends.

    Lock it to change it: two changes at once then take turns, and the second sees what the
    first did (a status already moved, its conferences already cancelled). On SQLite,
    transactions take turns anyway.
    """
    query = select(Referral).where(Referral.reference == reference)
    return session.scalar(query.with_for_update() if lock else query)


def record_consent(
    session: Session,
    conversation: Conversation,
    *,
    item: str,
    answer: str,
    wording: str,
    notice_version: str,
    now: datetime,
) -> ConsentRecord:
    """Record one consent answer with the exact wording shown and its hash."""
    record = ConsentRecord(
        conversation_id=conversation.id,
        subject_id=conversation.address_hash[:32],
        channel=conversation.channel,
        item=item,
        wording=wording,
        wording_hash=hashlib.sha256(wording.encode("utf-8")).hexdigest(),
        notice_version=notice_version,
        answer=answer,
        answered_at=now,
    )
    session.add(record)
    return record


def attach_consents(session: Session, conversation: Conversation, referral: Referral) -> None:
    """Link a conversation's unattached consent records to its new referral."""
    session.execute(
        update(ConsentRecord)
        .where(
            ConsentRecord.conversation_id == conversation.id, ConsentRecord.referral_id.is_(None)
        )
        .values(referral_id=referral.id)
    )


def scrub_conversation(session: Session, conversation_id: int) -> None:
    """Stop pending sends, drop consent records and blank message bodies of a conversation."""
    cancel_pending_for(session, conversation_id)
    session.execute(delete(ConsentRecord).where(ConsentRecord.conversation_id == conversation_id))
    session.execute(
        update(Message).where(Message.conversation_id == conversation_id).values(body=None)
    )


def scrub_referral(session: Session, referral: Referral, marker: str) -> None:
    """Remove a referral's personal data, for erasure and retention alike.

    Its details become the anonymous facts the figures need; its staff notes and consent
    records go, and its conferences keep their times and invitations but not their venues.
    """
    referral.details = {marker: True, "source": referral.source, "channel": referral.channel}
    session.execute(delete(ReferralNote).where(ReferralNote.referral_id == referral.id))
    session.execute(delete(ConsentRecord).where(ConsentRecord.referral_id == referral.id))
    session.execute(
        update(Conference).where(Conference.referral_id == referral.id).values(venue="")
    )
