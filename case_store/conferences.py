"""Conferences and invitations: creating, answering, moving, cancelling, outcomes, what is due."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.models import Conference, Invitation, InvitationEvent, Referral, Volunteer

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
PENDING = ("invited",)
SCHEDULED = "scheduled"
OPEN = (SCHEDULED,)
HELD, NOT_HELD = "held", "not_held"
OUTCOMES = (HELD, NOT_HELD)  # what the co-ordinator records once the start has passed
REMOVED = "removed"  # the volunteer was removed: they will not come, and hear no more of it


@dataclass(frozen=True)
class Timing:
    """When reminders, nudges and shortage alerts fall due."""

    reminder_before: timedelta = timedelta(hours=24)
    nudge_after: timedelta = timedelta(hours=24)
    shortage_before: timedelta = timedelta(hours=48)


def new_code(session: Session) -> str:
    """A short invitation code not used by any pending invitation."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
        taken = select(Invitation.id).where(Invitation.code == code, Invitation.status.in_(PENDING))
        if session.scalar(taken) is None:
            return code


def set_status(session: Session, invitation: Invitation, status: str, now: datetime) -> bool:
    """Change an invitation's status and record when; False if it was already so."""
    if invitation.status == status:
        return False
    invitation.status, invitation.status_changed_at = status, now
    session.add(InvitationEvent(invitation_id=invitation.id, status=status, at=now))
    return True


def create_conference(
    session: Session,
    *,
    referral_id: int,
    starts_at: datetime,
    utc_offset_minutes: int,
    venue: str,
    volunteers: list[Volunteer],
    min_facilitators: int,
    now: datetime,
) -> Conference:
    """A conference with an invitation (and its code) for each volunteer."""
    conference = Conference(
        referral_id=referral_id,
        starts_at=starts_at,
        utc_offset_minutes=utc_offset_minutes,
        venue=venue,
        status="scheduled",
        min_facilitators=min_facilitators,
        created_at=now,
        updated_at=now,
    )
    session.add(conference)
    session.flush()
    for volunteer in volunteers:
        invitation = Invitation(
            conference_id=conference.id,
            volunteer_id=volunteer.id,
            code=new_code(session),
            status="invited",
            status_changed_at=now,
            invited_at=now,
        )
        session.add(invitation)
        session.flush()
        session.add(InvitationEvent(invitation_id=invitation.id, status="invited", at=now))
    session.flush()
    return conference


def pending_for(session: Session, volunteer_id: int, now: datetime) -> list[Invitation]:
    """A volunteer's invitations still waiting for an answer, soonest first."""
    query = (
        select(Invitation)
        .join(Conference)
        .where(
            Invitation.volunteer_id == volunteer_id,
            Invitation.status.in_(PENDING),
            Conference.status.in_(OPEN),
            Conference.starts_at > now,
        )
        .order_by(Conference.starts_at)
    )
    return list(session.scalars(query))


def withdraw_from_upcoming(session: Session, volunteer_id: int, now: datetime) -> int:
    """A removed volunteer's invitations to conferences yet to happen; how many there were.

    Whatever their answer was, they will not come: a move of the conference must not invite
    them again, nor a reminder or a cancellation reach them. Past invitations stay as they are.
    """
    query = (
        select(Invitation)
        .join(Conference)
        .where(
            Invitation.volunteer_id == volunteer_id,
            Invitation.status != REMOVED,
            Conference.status.in_(OPEN),
            Conference.starts_at > now,
        )
    )
    invitations = list(session.scalars(query))
    for invitation in invitations:
        set_status(session, invitation, REMOVED, now)
    return len(invitations)


def still_invited(conference: Conference) -> list[Invitation]:
    """The conference's invitations but those of removed volunteers."""
    return [i for i in conference.invitations if i.status != REMOVED]


def confirmed_count(conference: Conference) -> int:
    """How many facilitators have said yes."""
    return sum(i.status == "confirmed" for i in conference.invitations)


def upcoming(session: Session, now: datetime) -> list[Conference]:
    """Scheduled conferences that have not started, soonest first."""
    query = (
        select(Conference)
        .where(Conference.status.in_(OPEN), Conference.starts_at > now)
        .order_by(Conference.starts_at)
    )
    return list(session.scalars(query))


def due_reminders(session: Session, now: datetime, timing: Timing) -> list[Invitation]:
    """Confirmed invitations whose reminder time has come and not yet been reminded."""
    return [
        i
        for c in upcoming(session, now)
        if c.starts_at - timing.reminder_before <= now
        for i in c.invitations
        if i.status == "confirmed" and i.reminded_at is None
    ]


def due_nudges(session: Session, now: datetime, timing: Timing) -> list[Invitation]:
    """Unanswered invitations old enough for a nudge, nudged at most once."""
    return [
        i
        for c in upcoming(session, now)
        for i in c.invitations
        if i.status == "invited"
        and i.nudged_at is None
        and i.invited_at + timing.nudge_after <= now
    ]


def due_shortages(session: Session, now: datetime, timing: Timing) -> list[Conference]:
    """Conferences close at hand without enough confirmed facilitators, alerted once."""
    return [
        c
        for c in upcoming(session, now)
        if c.shortage_alerted_at is None
        and c.starts_at - timing.shortage_before <= now
        and confirmed_count(c) < c.min_facilitators
    ]


def expire_unanswered(session: Session, now: datetime) -> int:
    """Invitations still unanswered when their conference starts become no_reply."""
    query = (
        select(Invitation)
        .join(Conference)
        .where(Invitation.status == "invited", Conference.starts_at <= now)
    )
    stale = list(session.scalars(query))
    for invitation in stale:
        set_status(session, invitation, "no_reply", now)
    return len(stale)


class Canceller(Protocol):
    """Who cancels a conference and tells its volunteers (webhooks/conferencing.py's desk)."""

    def cancelled(self, session: Session, conference: Conference, now: datetime) -> None:
        """Cancel the conference, stop its reminders not yet sent, tell whoever was coming."""


def still_to_come(session: Session, referral_id: int, now: datetime) -> list[Conference]:
    """A referral's scheduled conferences that have not started, soonest first; locked, so
    one being cancelled meanwhile (through the API) is left out once that is done."""
    query = (
        select(Conference)
        .where(
            Conference.referral_id == referral_id,
            Conference.status.in_(OPEN),
            Conference.starts_at > now,
        )
        .order_by(Conference.starts_at, Conference.id)
        .with_for_update()
    )
    return list(session.scalars(query))


def cancel_still_to_come(
    session: Session, referral: Referral, canceller: Canceller, actor: str, why: str, now: datetime
) -> int:
    """Cancel a referral's conferences still to come as a co-ordinator would, each audited.

    For a referral that stops being live, or is erased: no volunteer may go on being reminded
    of its conferences. Those already started are left alone: they need an outcome instead.
    """
    conferences = still_to_come(session, referral.id, now)
    for conference in conferences:
        canceller.cancelled(session, conference, now)
        detail = f"#{conference.id} {why}"
        audit(session, actor, "conference_cancelled", referral.reference, now, detail)
    return len(conferences)


def has_started(conference: Conference, now: datetime) -> bool:
    """True once the conference's start time has come."""
    return conference.starts_at <= now


def needs_outcome(conference: Conference, now: datetime) -> bool:
    """True for a conference still scheduled after its start: was it held or not?"""
    return conference.status in OPEN and has_started(conference, now)


def record_outcome(conference: Conference, outcome: str, now: datetime) -> None:
    """Mark a conference held or not held (the caller has checked it may be)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown conference outcome {outcome!r}")
    conference.status, conference.updated_at = outcome, now


def awaiting_outcome(session: Session, now: datetime) -> list[Row[Any]]:
    """(conference id, start, referral reference) of every conference needing an outcome."""
    query = (
        select(Conference.id, Conference.starts_at, Referral.reference)
        .join(Referral, Referral.id == Conference.referral_id)
        .where(Conference.status.in_(OPEN), Conference.starts_at <= now)
        .order_by(Conference.starts_at, Conference.id)
    )
    return list(session.execute(query))
