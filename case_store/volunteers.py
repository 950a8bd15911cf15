"""Volunteer facilitators: stored encrypted, found by a keyed hash of their phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.conferences import withdraw_from_upcoming
from case_store.conversations import address_hash
from case_store.models import Volunteer
from case_store.outbox import forget_volunteer_sends

REMOVED = "removed"  # the prefix of a removed volunteer's phone_hash: "removed:{id}"


def phone_hash(phone: str) -> str:
    """The lookup hash of a volunteer's E.164 number (the same key as SMS conversations)."""
    return address_hash("sms", phone)


def add_volunteer(
    session: Session, *, name: str, phone: str, active: bool, skills: list[str], now: datetime
) -> Volunteer | None:
    """A new volunteer; None when one with this phone number exists already."""
    if find_by_phone(session, phone) is not None:
        return None
    volunteer = Volunteer(
        name=name,
        phone=phone,
        phone_hash=phone_hash(phone),
        active=active,
        skills=sorted(set(skills)),
        created_at=now,
        updated_at=now,
    )
    session.add(volunteer)
    session.flush()
    return volunteer


def find_by_phone(session: Session, phone: str) -> Volunteer | None:
    """The volunteer with this E.164 number."""
    return session.scalar(select(Volunteer).where(Volunteer.phone_hash == phone_hash(phone)))


def active_volunteer(session: Session, phone: str) -> Volunteer | None:
    """The active volunteer with this number: a plain-column look-up first, since nearly
    every inbound SMS is from someone who is not a volunteer."""
    table = Volunteer.__table__
    found = (
        session.connection()
        .execute(select(table.c.id).where(table.c.phone_hash == phone_hash(phone), table.c.active))
        .first()
    )
    return None if found is None else session.get(Volunteer, found.id)


def all_volunteers(session: Session, active_only: bool = False) -> list[Volunteer]:
    """Volunteers in the order they were added (not those removed)."""
    query = select(Volunteer).where(~Volunteer.phone_hash.startswith(f"{REMOVED}:"))
    query = query.order_by(Volunteer.id)
    if active_only:
        query = query.where(Volunteer.active.is_(True))
    return list(session.scalars(query))


def is_removed(volunteer: Volunteer) -> bool:
    """True once a co-ordinator has removed this volunteer."""
    return volunteer.phone_hash.startswith(f"{REMOVED}:")


def remove_volunteer(session: Session, volunteer: Volunteer, now: datetime) -> int:
    """Remove a volunteer for good; how many invitations to conferences to come they lose.

    The row stays, so past invitations still say who was invited (a removed volunteer, by
    id); their name and number are blanked as an erasure blanks an address
    (`forget_address`), and every SMS to them is cancelled or forgotten.

    The phone hash goes too, replaced by a meaningless marker as retention does for a purged
    conversation: a STOP is honoured by the conversation at that number (its opt-out and its
    own hash), which the worker checks before every SMS, never by this row. Freed, the hash
    lets the same number be added again later as a new volunteer.
    """
    forget_volunteer_sends(session, volunteer.phone_hash)
    withdrawn = withdraw_from_upcoming(session, volunteer.id, now)
    volunteer.name = volunteer.phone = ""
    volunteer.phone_hash = f"{REMOVED}:{volunteer.id}"
    volunteer.active, volunteer.skills, volunteer.updated_at = False, [], now
    return withdrawn
