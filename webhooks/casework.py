"""Casework shared by the API and the dashboard: status changes, notes, conferences, outcomes.

Refusals are `ApiError`s (status, code, message, fields): the API answers them as JSON,
the dashboard shows their message on the page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.conferences import (
    OUTCOMES,
    SCHEDULED,
    Canceller,
    cancel_still_to_come,
    create_conference,
    has_started,
    record_outcome,
)
from case_store.lifecycle import LIVE, can_move, move
from case_store.models import Conference, Referral, ReferralNote, Volunteer
from case_store.referrals import find_referral
from case_store.volunteers import all_volunteers
from webhooks.errors import ApiError
from webhooks.runtime import Runtime


def invalid(field: str, message: str) -> ApiError:
    """A 422 naming one field."""
    return ApiError(422, "invalid_fields", "Some fields are not valid.", {field: message})


def change_referral(
    session: Session,
    referral: Referral,
    actor: str,
    status: str | None,
    note: str | None,
    now: datetime,
    desk: Canceller,
) -> None:
    """Apply a status change and a note, audited; 409 for a move the lifecycle forbids.

    A move that ends the casework (closed, withdrawn, completed) cancels the referral's
    conferences still to come through `desk`.
    """
    if status and status != referral.status:
        if not can_move(referral.status, status):
            raise ApiError(
                409,
                "illegal_transition",
                f"A referral cannot move from {referral.status} to {status}.",
            )
        move(session, referral, actor, status, now)
        if status not in LIVE:
            _end_conferences(session, referral, desk, actor, now)
    if note:
        session.add(ReferralNote(referral_id=referral.id, author=actor, text=note, created_at=now))
        audit(session, actor, "note", referral.reference, now)
        referral.updated_at = now
    session.flush()


def _end_conferences(
    session: Session, referral: Referral, desk: Canceller, actor: str, now: datetime
) -> None:
    """A referral out of casework keeps no conference going: each still to come is cancelled."""
    cancel_still_to_come(session, referral, desk, actor, f"referral {referral.status}", now)


def checked_start(starts_at: datetime, now: datetime, field: str = "starts_at") -> datetime:
    """An aware start time in the future."""
    if starts_at.tzinfo is None:
        raise invalid(field, "give a UTC offset, like 2026-12-03T10:00:00+00:00")
    if starts_at <= now:
        raise invalid(field, "the conference must be in the future")
    return starts_at


def chosen_volunteers(session: Session, ids: list[int]) -> list[Volunteer]:
    """The active volunteers with these ids, or a 422."""
    if not ids:
        raise invalid("volunteers", "choose at least one volunteer")
    wanted = set(ids)
    found = {v.id: v for v in all_volunteers(session, active_only=True) if v.id in wanted}
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise invalid("volunteers", f"unknown or inactive volunteers: {', '.join(missing)}")
    return [found[i] for i in dict.fromkeys(ids)]


def live_referral(session: Session, reference: str) -> Referral:
    """The referral a conference is for (locked: it may not close meanwhile); 422 when
    unknown or closed."""
    referral = find_referral(session, reference, lock=True)
    if referral is None:
        raise invalid("referral", f"no referral {reference}")
    if referral.status not in LIVE:
        raise invalid("referral", f"the referral is {referral.status}")
    return referral


def schedule_conference(
    session: Session,
    runtime: Runtime,
    actor: str,
    *,
    reference: str,
    starts_at: datetime,
    venue: str,
    volunteer_ids: list[int],
    min_facilitators: int,
) -> Conference:
    """Arrange a conference, invite each volunteer by SMS, and move the referral on."""
    now = runtime.conversations.clock()
    referral = live_referral(session, reference)
    starts_at = checked_start(starts_at, now)
    if not venue.strip():
        raise invalid("venue", "say where the conference is")
    offset = starts_at.utcoffset()
    conference = create_conference(
        session,
        referral_id=referral.id,
        starts_at=starts_at,
        utc_offset_minutes=int(offset.total_seconds() // 60) if offset else 0,
        venue=venue.strip(),
        volunteers=chosen_volunteers(session, volunteer_ids),
        min_facilitators=min_facilitators,
        now=now,
    )
    session.refresh(conference)
    runtime.desk.invite_all(session, conference, now)
    if referral.status != "conference_scheduled":
        move(session, referral, actor, "conference_scheduled", now)
    audit(session, actor, "conference", referral.reference, now, f"#{conference.id}")
    return conference


ALREADY_SETTLED = {
    "held": "This conference is already recorded as held.",
    "not_held": "This conference is already recorded as not going ahead.",
    "cancelled": "This conference was cancelled: there is no outcome to record.",
}


def outcome_refusal(conference: Conference, outcome: str, now: datetime) -> ApiError | None:
    """Why this outcome cannot be recorded now, if it cannot."""
    if outcome not in OUTCOMES:
        return invalid("outcome", f"choose one of: {', '.join(OUTCOMES)}")
    if conference.status != SCHEDULED:
        message = ALREADY_SETTLED.get(conference.status, f"The conference is {conference.status}.")
        return ApiError(409, "not_scheduled", message)
    if not has_started(conference, now):
        message = "This conference has not started yet: record what happened once it has."
        return ApiError(409, "not_started", message)
    return None


def record_conference_outcome(
    session: Session, actor: str, conference: Conference, outcome: str, now: datetime
) -> None:
    """Record whether a conference that has started was held, audited; sends nothing."""
    refusal = outcome_refusal(conference, outcome, now)
    if refusal is not None:
        raise refusal
    record_outcome(conference, outcome, now)
    referral = session.get_one(Referral, conference.referral_id)
    audit(
        session, actor, "conference_outcome", referral.reference, now, f"#{conference.id} {outcome}"
    )
