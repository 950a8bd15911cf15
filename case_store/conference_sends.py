"""What volunteers are sent about conferences: linked to invitations, stopped, forgotten.

Every SMS queued for a volunteer about a conference, and every answer of theirs and reply of
ours stored as a message, is linked to the invitations it was about (`InvitationSms`). So a
cancelled conference's reminders not yet gone can be stopped, and an erased referral's SMS
blanked: they carry the conference's time and venue.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from case_store.models import Conference, Invitation, InvitationSms, Message, OutboxItem
from case_store.outbox import UNSENT, forget_sends


def link_send(session: Session, item: OutboxItem, invitation_id: int) -> None:
    """Record that a queued send is about an invitation."""
    session.add(InvitationSms(invitation_id=invitation_id, outbox_id=item.id))


def link_messages(
    session: Session, message_ids: Iterable[int], invitation_ids: Iterable[int]
) -> None:
    """Record that each of these stored messages was about each of these invitations."""
    wanted = set(invitation_ids)
    session.add_all(
        InvitationSms(invitation_id=invitation_id, message_id=message_id)
        for message_id in message_ids
        for invitation_id in wanted
    )


def stop_unsent(session: Session, conference: Conference, kinds: Iterable[str]) -> None:
    """Cancel the conference's sends of these kinds (their dedupe keys' first part) not yet gone."""
    about = [invitation.id for invitation in conference.invitations]
    sends = select(InvitationSms.outbox_id).where(InvitationSms.invitation_id.in_(about))
    of_kind = or_(*(OutboxItem.dedupe_key.startswith(f"{kind}:") for kind in kinds))
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.id.in_(sends), of_kind, OutboxItem.status.in_(UNSENT))
        .values(status="cancelled", lease_until=None, last_error="conference cancelled")
    )


def forget_for_referral(session: Session, referral_id: int) -> None:
    """Erasure: the text of every SMS about the referral's conferences goes; the rows stay.

    Sends not yet gone are cancelled, as erasure cancels the person's own.
    """
    about = InvitationSms.invitation_id.in_(_invitations_of(referral_id))
    found = list(session.scalars(select(InvitationSms).where(about)))
    forget_sends(session, [link.outbox_id for link in found if link.outbox_id is not None])
    messages = [link.message_id for link in found if link.message_id is not None]
    if messages:
        session.execute(update(Message).where(Message.id.in_(messages)).values(body=None))


def _invitations_of(referral_id: int) -> Select[int]:
    """The ids of the invitations to every conference of a referral."""
    return (
        select(Invitation.id)
        .join(Conference, Conference.id == Invitation.conference_id)
        .where(Conference.referral_id == referral_id)
    )
