"""Delivery statuses only move forward; Twilio's opted-out error marks the conversation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import Conversation, Message
from case_store.outbox import cancel_pending_for

OPTED_OUT_ERROR = "21610"
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
    "canceled": 4,
}


def apply_status(
    session: Session, sid: str, status: str, error_code: str | None, now: datetime
) -> bool:
    """Update the message with this sid; False when unknown or when it would go backwards."""
    message = session.scalar(
        select(Message).where(Message.channel == "sms", Message.channel_message_id == sid)
    )
    if message is None or status not in STATUS_RANK:
        return False
    if error_code == OPTED_OUT_ERROR:
        mark_opted_out(session, message.conversation_id)
    if STATUS_RANK[status] <= STATUS_RANK.get(message.status, -1):
        return False
    message.status, message.error_code, message.updated_at = status, error_code, now
    return True


def mark_opted_out(session: Session, conversation_id: int | None) -> None:
    """Record that the person behind a conversation has opted out of messages."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    if conversation is not None:
        cancel_pending_for(session, conversation.id)
        conversation.opted_out = True
        conversation.state = {**conversation.state, "opted_out": True}
