"""The board's figures for a period: referrals by source, channel and status, and more.

A period's dates are days where the service is (in England, Europe/London: a referral at
00:30 BST on 1 June belongs to 1 June). They become UTC instants once, in `local_days`;
everything stored stays in UTC.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from case_store.conferences import HELD, NOT_HELD, SCHEDULED
from case_store.lifecycle import LIVE, STATUSES
from case_store.models import Conference, Referral

SOURCES = ("victims_hub", "police", "partner_agency", "self")
CHANNELS = ("sms", "telegram", "web", "api")
REACHED_CONFERENCE = {"conference_scheduled", "completed"}


@dataclass(frozen=True)
class Period:
    """Inclusive local dates (either open), the UTC instants bounding them, and their zone."""

    start: date | None
    end: date | None
    zone: tzinfo
    lower: datetime | None  # the first instant of `start`, in UTC
    upper: datetime | None  # the first instant after `end`, in UTC


def local_days(start: date | None, end: date | None, zone: tzinfo) -> Period:
    """The days from `start` to `end` (inclusive) in `zone`, as a half-open range of instants."""
    after = end + timedelta(days=1) if end else None
    return Period(start, end, zone, _midnight(start, zone), _midnight(after, zone))


def _midnight(day: date | None, zone: tzinfo) -> datetime | None:
    """When `day` begins in `zone`, in UTC (a day may last 23 or 25 hours where clocks change)."""
    return None if day is None else datetime.combine(day, time.min, zone).astimezone(UTC)


def referrals_in(session: Session, period: Period | None) -> list[Row[Any]]:
    """The plain (never personal, never decrypted) columns of referrals received in the period."""
    query = select(
        Referral.source,
        Referral.channel,
        Referral.status,
        Referral.urgent,
        Referral.created_at,
        Referral.first_contact_at,
    )
    return list(session.execute(query.where(*_within(Referral.created_at, period))))


def _within(
    moment: QueryableAttribute[datetime], period: Period | None
) -> list[ColumnElement[bool]]:
    """Conditions keeping the `moment` column in the period (none for all time)."""
    conditions = []
    if period and period.lower:
        conditions.append(moment >= period.lower)
    if period and period.upper:
        conditions.append(moment < period.upper)
    return conditions


def _conferences(
    session: Session, status: str, period: Period | None, started_by: datetime | None = None
) -> int:
    """Conferences with this status whose start fell in the period (and by `started_by`)."""
    query = select(func.count()).where(Conference.status == status)
    if started_by is not None:
        query = query.where(Conference.starts_at <= started_by)
    return int(session.scalar(query.where(*_within(Conference.starts_at, period))) or 0)


def conferences_held(session: Session, period: Period | None) -> int:
    """Conferences the co-ordinator recorded as held, by start in the period."""
    return _conferences(session, HELD, period)


def conferences_not_held(session: Session, period: Period | None) -> int:
    """Conferences the co-ordinator recorded as not going ahead, by start in the period."""
    return _conferences(session, NOT_HELD, period)


def conferences_awaiting_outcome(session: Session, period: Period | None, now: datetime) -> int:
    """Conferences still scheduled whose start, in the period, has passed: no outcome yet."""
    return _conferences(session, SCHEDULED, period, started_by=now)


def monthly_by_source(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Referrals per month of the period's zone ("2026-11") by source, oldest month first."""
    months: dict[str, Counter[str]] = {}
    for row in referrals_in(session, period):
        month = row.created_at.astimezone(period.zone).strftime("%Y-%m")
        months.setdefault(month, Counter())[row.source] += 1
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
    session: Session, period: Period | None, now: datetime | None = None
) -> dict[str, Any]:
    """The board's figures: referrals received, and conferences starting, in the period.

    No period means all time. The period is given back as the dates asked for.
    """
    rows = referrals_in(session, period)
    moment = now or datetime.now(UTC)
    statuses = [r.status for r in rows]
    start, end = (period.start, period.end) if period else (None, None)
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
        "conferences_held": conferences_held(session, period),
        "conferences_not_held": conferences_not_held(session, period),
        "conferences_awaiting_outcome": conferences_awaiting_outcome(session, period, moment),
        "live": sum(s in LIVE for s in statuses),
        "closed": statuses.count("closed"),
        "withdrawn": statuses.count("withdrawn"),
        "median_days_to_first_contact": _median_days(rows),
    }
