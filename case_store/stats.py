"""The board's figures for a period: referrals by source, channel and status, and more."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from case_store.conferences import HELD, NOT_HELD, SCHEDULED
from case_store.lifecycle import LIVE, STATUSES
from case_store.models import Conference, Referral

SOURCES = ("victims_hub", "police", "partner_agency", "self")
CHANNELS = ("sms", "telegram", "web", "api")
REACHED_CONFERENCE = {"conference_scheduled", "completed"}


def _bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive dates as a half-open range of aware datetimes."""
    lower = datetime.combine(start, time.min, UTC) if start else None
    upper = datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None
    return lower, upper


def referrals_in(session: Session, start: date | None, end: date | None) -> list[Row[Any]]:
    """The plain (never personal, never decrypted) columns of referrals received in the period."""
    lower, upper = _bounds(start, end)
    query = select(
        Referral.source,
        Referral.channel,
        Referral.status,
        Referral.urgent,
        Referral.created_at,
        Referral.first_contact_at,
    )
    if lower:
        query = query.where(Referral.created_at >= lower)
    if upper:
        query = query.where(Referral.created_at < upper)
    return list(session.execute(query))


def _conferences(
    session: Session,
    status: str,
    start: date | None,
    end: date | None,
    started_by: datetime | None = None,
) -> int:
    """Conferences with this status whose start fell in the period (and by `started_by`)."""
    lower, upper = _bounds(start, end)
    query = select(func.count()).where(Conference.status == status)
    if started_by is not None:
        query = query.where(Conference.starts_at <= started_by)
    if lower:
        query = query.where(Conference.starts_at >= lower)
    if upper:
        query = query.where(Conference.starts_at < upper)
    return int(session.scalar(query) or 0)


def conferences_held(session: Session, start: date | None, end: date | None) -> int:
    """Conferences the co-ordinator recorded as held, by start in the period."""
    return _conferences(session, HELD, start, end)


def conferences_not_held(session: Session, start: date | None, end: date | None) -> int:
    """Conferences the co-ordinator recorded as not going ahead, by start in the period."""
    return _conferences(session, NOT_HELD, start, end)


def conferences_awaiting_outcome(
    session: Session, start: date | None, end: date | None, now: datetime
) -> int:
    """Conferences still scheduled whose start, in the period, has passed: no outcome yet."""
    return _conferences(session, SCHEDULED, start, end, started_by=now)


def monthly_by_source(
    session: Session, start: date | None, end: date | None
) -> dict[str, dict[str, int]]:
    """Referrals per month ("2026-11") by source, oldest month first."""
    months: dict[str, Counter[str]] = {}
    for row in referrals_in(session, start, end):
        months.setdefault(row.created_at.strftime("%Y-%m"), Counter())[row.source] += 1
    return {
        month: {source: months[month].get(source, 0) for source in SOURCES}
        for month in sorted(months)
    }


def _counts(values: list[str], keys: tuple[str, ...]) -> dict[str, int]:
    """Counts for every known key (zeros included), then any others."""
    counter = Counter(values)
    return {**{key: counter.get(key, 0) for key in keys}, **counter}


def _median_days(rows: list[Row[Any]]) -> float | None:
    """Median days from referral to first contact, over those contacted."""
    days = [
        (r.first_contact_at - r.created_at).total_seconds() / 86400
        for r in rows
        if r.first_contact_at is not None
    ]
    return round(statistics.median(days), 1) if days else None


def board_figures(
    session: Session, start: date | None, end: date | None, now: datetime | None = None
) -> dict[str, Any]:
    """The board's figures: referrals received, and conferences starting, in the period."""
    rows = referrals_in(session, start, end)
    moment = now or datetime.now(UTC)
    statuses = [r.status for r in rows]
    return {
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        },
        "total": len(rows),
        "by_source": _counts([r.source for r in rows], SOURCES),
        "by_channel": _counts([r.channel for r in rows], CHANNELS),
        "by_status": _counts(statuses, STATUSES),
        "urgent": sum(r.urgent for r in rows),
        "reached_conference": sum(s in REACHED_CONFERENCE for s in statuses),
        "conferences_held": conferences_held(session, start, end),
        "conferences_not_held": conferences_not_held(session, start, end),
        "conferences_awaiting_outcome": conferences_awaiting_outcome(session, start, end, moment),
        "live": sum(s in LIVE for s in statuses),
        "closed": statuses.count("closed"),
        "withdrawn": statuses.count("withdrawn"),
        "median_days_to_first_contact": _median_days(rows),
    }
