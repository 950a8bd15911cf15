"""The audit trail: who viewed or changed a referral."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import AuditEntry


def audit(
    session: Session,
    actor: str,
    action: str,
    reference: str | None,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Record one action (never personal data in `detail`)."""
    session.add(
        AuditEntry(actor=actor, action=action, referral_reference=reference, detail=detail, at=now)
    )


def trail(session: Session, reference: str) -> list[AuditEntry]:
    """A referral's audit trail, oldest first."""
    query = select(AuditEntry).where(AuditEntry.referral_reference == reference)
    return list(session.scalars(query.order_by(AuditEntry.id)))
