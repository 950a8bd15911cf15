"""Conferences as the dashboard's pages show them: each invitation with its volunteer's name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.conferences import confirmed_count, needs_outcome
from case_store.models import Conference, Referral, Volunteer
from case_store.volunteers import is_removed


def conferences_of(session: Session, referral: Referral, now: datetime) -> list[dict[str, Any]]:
    """The referral's conferences with each invitation and the volunteer's name."""
    conferences = session.scalars(
        select(Conference).where(Conference.referral_id == referral.id).order_by(Conference.id)
    )
    return [conference_view(session, c, now) for c in conferences]


def conference_view(session: Session, conference: Conference, now: datetime) -> dict[str, Any]:
    """A conference as the pages show it (an outcome is needed once its start has passed)."""
    names = {v.id: _volunteer_name(v) for v in session.scalars(select(Volunteer))}
    return {
        "id": conference.id,
        "starts_at": conference.starts_at,
        "venue": conference.venue,
        "status": conference.status,
        "outcome_needed": needs_outcome(conference, now),
        "needed": conference.min_facilitators,
        "confirmed": confirmed_count(conference),
        "invitations": [
            {
                "name": names.get(i.volunteer_id, f"volunteer {i.volunteer_id}"),
                "status": i.status,
                "changed_at": i.status_changed_at,
            }
            for i in conference.invitations
        ],
    }


def _volunteer_name(volunteer: Volunteer) -> str:
    """A volunteer's name, or who they were once removed (their name is erased)."""
    return f"Removed volunteer #{volunteer.id}" if is_removed(volunteer) else volunteer.name
