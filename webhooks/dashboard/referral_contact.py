"""A message to the person from their referral's page, through the channel they used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.conversations import record_message
from case_store.models import Conversation, Referral
from case_store.outbox import enqueue
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import MessageForm
from webhooks.dashboard.referral import (
    MESSAGE_CHANNELS,
    back_to_referral,
    conversation_of,
    load_referral,
    render_referral,
)
from webhooks.runtime import Runtime, current_runtime
from webhooks.safe_contact import describe, is_safe_time


@bp.post("/referrals/<reference>/message")
def send_message(reference: str) -> Any:
    """Send the victim a message through their channel, within their safe times."""
    form = MessageForm(prefix="message")
    if not form.validate_on_submit():
        return render_referral(reference, 422, message_form=form)
    runtime = current_runtime()
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        conversation = conversation_of(session, referral)
        problem = _message_problem(runtime, referral, conversation, form, now)
        if problem:
            form.form_errors.append(problem)
        elif conversation is not None:
            _queue_message(session, conversation, form.text.data, now)
            audit(session, staff().actor, "message", referral.reference, now, conversation.channel)
    if problem:
        return render_referral(reference, 409, message_form=form)
    flash("Message queued: it goes out in a moment.")
    return back_to_referral(reference)


def _message_problem(
    runtime: Runtime,
    referral: Referral,
    conversation: Conversation | None,
    form: MessageForm,
    now: datetime,
) -> str | None:
    """Why this message must not go now, if it must not."""
    if conversation is None or conversation.channel not in MESSAGE_CHANNELS:
        return "This person did not contact us by SMS or Telegram: reply another way."
    if not conversation.address:
        return "Their data has been erased: we no longer hold their number to message them."
    if conversation.opted_out:
        return "They have asked for no more messages (STOP). Do not message them."
    victim = (referral.details or {}).get("victim") or {}
    safe = is_safe_time(victim.get("safe_times"), now, runtime.profile.timezone)
    if not safe and not form.outside_safe_times.data:
        return (
            "It is outside the times they said are safe ("
            + describe(victim.get("safe_times"))
            + "). Wait, or tick the box to confirm it is safe to send now."
        )
    return None


def _queue_message(session: Session, conversation: Conversation, text: str, now: datetime) -> None:
    """Store the message and queue it in the outbox for the conversation's channel."""
    message = record_message(
        session, conversation, "out", text, now, channel=conversation.channel, status="queued"
    )
    enqueue(
        session,
        kind=conversation.channel,
        recipient=conversation.address,
        payload={"text": text, "buttons": [], "step": None},
        dedupe_key=f"staff:{message.id}",
        now=now,
        conversation_id=conversation.id,
        message_id=message.id,
    )
