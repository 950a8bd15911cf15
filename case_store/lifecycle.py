"""The referral lifecycle: which status may follow which, and the one way a status changes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from case_store.audit import audit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from case_store.models import Referral

STATUSES = (
    "new",
    "contacted",
    "assessing",
    "conference_scheduled",
    "completed",
    "closed",
    "withdrawn",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "assessing", "closed", "withdrawn"}),
    "contacted": frozenset({"assessing", "closed", "withdrawn"}),
    "assessing": frozenset({"conference_scheduled", "closed", "withdrawn"}),
    "conference_scheduled": frozenset({"assessing", "completed", "closed", "withdrawn"}),
    "completed": frozenset({"closed"}),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
LIVE = frozenset({"new", "contacted", "assessing", "conference_scheduled"})
# Leaving `new` for any of these means someone took the case up: the person was reached.
TAKEN_UP = frozenset({"contacted", "assessing", "conference_scheduled"})
# The only moves out of `new` that are not a take-up, as the audit trail words them.
NOT_TAKEN_UP_MOVES = ("new->closed", "new->withdrawn")


def can_move(current: str, target: str) -> bool:
    """True when `target` may follow `current`."""
    return target in TRANSITIONS.get(current, frozenset())


def move(session: Session, referral: Referral, actor: str, status: str, now: datetime) -> None:
    """Change a referral's status, audited; its first move into casework is its first contact.

    Every status change goes through here (the API, the dashboard, scheduling a conference),
    so `first_contact_at` is set however the case was taken up: retention keeps a referral
    that has it for the service users' period, not the never-taken-up one.
    """
    audit(session, actor, "status", referral.reference, now, f"{referral.status}->{status}")
    if referral.status == "new" and status in TAKEN_UP and referral.first_contact_at is None:
        referral.first_contact_at = now
    referral.status, referral.updated_at = status, now
