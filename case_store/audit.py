"""The audit trail: who viewed or changed a referral."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
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


def audit_many(
    session: Session, actor: str, action: str, references: list[str], now: datetime
) -> None:
    """Record one action on several referrals in one INSERT (a page of the queue)."""
    if references:
        rows = [
            {"actor": actor, "action": action, "referral_reference": ref, "detail": None, "at": now}
            for ref in references
        ]
        session.execute(insert(cast(Table, AuditEntry.__table__)), rows)


def trail(session: Session, reference: str) -> list[AuditEntry]:
    """A referral's audit trail, oldest first."""
    query = select(AuditEntry).where(AuditEntry.referral_reference == reference)
    return list(session.scalars(query.order_by(AuditEntry.id)))
