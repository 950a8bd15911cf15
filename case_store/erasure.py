"""Erasure on request: the person's personal data goes everywhere at once; a record of it stays.

Whoever asks (the person, by DELETE; staff, from the dashboard), the same goes:
- the referral's details (name, phone, email, what happened), the staff notes on it, the
  consent records and where its conferences meet (as retention removes them, with
  `scrub_referral`); a live referral becomes withdrawn. Its reference, source, channel, status,
  flags and dates stay, so the board figures are the same before and after;
- the text of every SMS to and from volunteers about its conferences, sent or not (they give
  the time and place: case_store/conference_sends.py). Its conferences still to come are
  cancelled as a co-ordinator cancels one: the volunteers still coming are told (in words
  that name no place), and the cancellation is audited;
- the conversation's answers, message bodies and address (phone number or chat id). Its keyed
  address hash stays: a STOP is still honoured, and the person is known if they write again;
- every outbox row to them, whatever its state, and every Telegram edit showing one of their
  button presses (which holds the chat id): recipient and text go, pending and in-flight
  sends are cancelled, the row's anonymous facts stay. What the erasure itself queues (saying
  it is done, offering to clear a Telegram chat, the clearing) keeps the address only until
  it is sent (case_store/outbox.py, `forget_if_erased`).
An ErasureRecord says that it happened, for which referral or conversation, when and at whose
request: never what was erased.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.conference_sends import forget_for_referral
from case_store.conferences import Canceller, cancel_still_to_come
from case_store.conversations import ERASED, forget_address
from case_store.lifecycle import LIVE
from case_store.models import Conversation, ErasureRecord, Referral
from case_store.outbox import forget_sends_to
from case_store.referrals import scrub_conversation, scrub_referral

MARKER = "erased"  # what an erased referral's details say


def erase_conversation(
    session: Session,
    conversation: Conversation,
    who: str,
    now: datetime,
    desk: Canceller,
    actor: str | None = None,
) -> None:
    """Erase what a person told us in a conversation, and its referral's personal data.

    The address stays until the turn that asked is over, so its replies can be queued
    (`end_turn`); `erase_referral` drops it at once. `desk` cancels the referral's
    conferences still to come.
    """
    referral = (
        session.get(Referral, conversation.referral_id, with_for_update=True)
        if conversation.referral_id
        else None
    )
    forget_sends_to(session, conversation)
    scrub_conversation(session, conversation.id)
    if conversation.status != ERASED:  # the flow resets its own state on DELETE
        _reset(conversation)
    if referral is not None:
        _erase_details(session, referral, actor or who, now, desk)
    _record(session, who, now, conversation.id, referral)


def erase_referral(
    session: Session,
    referral: Referral,
    who: str,
    now: datetime,
    desk: Canceller,
    actor: str | None = None,
) -> None:
    """Erase a referral's personal data on request, wherever it came from, and record it.

    `actor` names who asked in the audit trail, where that is longer than `who` may be.
    """
    conversation = session.scalar(
        select(Conversation).where(Conversation.referral_id == referral.id)
    )
    if conversation is None:
        _erase_details(session, referral, actor or who, now, desk)
        _record(session, who, now, None, referral)
        return
    erase_conversation(session, conversation, who, now, desk, actor)
    forget_address(conversation)


def _reset(conversation: Conversation) -> None:
    """Start the conversation afresh, erased: no answers, only the opt-out choice kept."""
    state = conversation.state or {}
    conversation.state = {
        "flow": state.get("flow", conversation.flow),
        "version": state.get("version", 1),
        "status": ERASED,
        "opted_out": conversation.opted_out,
    }
    conversation.step, conversation.status = None, ERASED


def _erase_details(
    session: Session, referral: Referral, actor: str, now: datetime, desk: Canceller
) -> None:
    """A referral's personal data goes (case_store/referrals.py); a live one is withdrawn.

    What volunteers were told of its conferences goes first, so the cancellations queued
    next are sent: they name no place, only the time a conference keeps.
    """
    forget_for_referral(session, referral.id)
    cancel_still_to_come(session, referral, desk, actor, "referral erased", now)
    scrub_referral(session, referral, MARKER)
    if referral.status in LIVE:
        referral.status = "withdrawn"
    referral.updated_at = now


def _record(
    session: Session,
    who: str,
    now: datetime,
    conversation_id: int | None,
    referral: Referral | None,
) -> None:
    """That an erasure happened, and when; `who` fits 32 characters ("staff:{id}")."""
    session.add(
        ErasureRecord(
            conversation_id=conversation_id,
            referral_reference=referral.reference if referral else None,
            requested_by=who,
            erased_at=now,
        )
    )
