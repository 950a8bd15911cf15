"""What volunteers are sent about conferences, linked to the invitations it was about.

Every SMS queued for a volunteer about a conference, and every answer of theirs and reply of
ours stored as a message, is linked to the invitations it was about (`InvitationSms`): they
carry the conference's time and venue, so they can be found by conference and referral.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from case_store.models import InvitationSms, OutboxItem


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
