"""The queue: what needs doing, urgent first, then newest."""

from __future__ import annotations

from typing import Any, cast

from flask import render_template, request
from sqlalchemy import Select, and_, func, or_, select
from werkzeug.exceptions import BadRequest

from case_store.conferences import awaiting_outcome
from case_store.dead_letters import count_dead
from case_store.lifecycle import STATUSES
from case_store.models import Referral
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.conversations import urgent_unreferred
from webhooks.runtime import current_runtime

PAGE_SIZE = 50
SOURCES = ("self", "victims_hub", "police", "partner_agency")
CHANNELS = ("sms", "telegram", "web", "api")


def _filters() -> dict[str, str]:
    """The queue's filters from the query string; unknown values are a 400."""
    chosen = {}
    for name, allowed in (("status", STATUSES), ("source", SOURCES), ("channel", CHANNELS)):
        value = request.args.get(name, "")
        if value and value not in allowed:
            raise BadRequest(f"Unknown {name}: choose one from the list.")
        if value:
            chosen[name] = value
    return chosen


def _cursor() -> tuple[bool, int] | None:
    """Where the next page starts: (urgent, id) of the last row shown."""
    raw = request.args.get("after", "")
    if not raw:
        return None
    flag, _, last_id = raw.partition("-")
    if flag not in {"u", "n"} or not last_id.isdigit():
        raise BadRequest("That page link is not valid.")
    return flag == "u", int(last_id)


def queue_query(filters: dict[str, str], after: tuple[bool, int] | None) -> Select[Any]:
    """Urgent first, then newest: keyset-paged on (urgent, id), which an index serves."""
    stmt = select(Referral).order_by(Referral.urgent.desc(), Referral.id.desc())
    for name, value in filters.items():
        stmt = stmt.where(getattr(Referral, name) == value)
    if after is not None:
        urgent, last_id = after
        later = and_(Referral.urgent.is_(urgent), Referral.id < last_id)
        stmt = stmt.where(or_(later, Referral.urgent.is_(False)) if urgent else later)
    return stmt


@bp.get("/")
def queue() -> str:
    """The queue page with counts per status."""
    filters, after = _filters(), _cursor()
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        rows = list(session.execute(_columns(queue_query(filters, after)).limit(PAGE_SIZE + 1)))
        counts = dict(
            session.execute(select(Referral.status, func.count()).group_by(Referral.status)).all()
        )
        failed_sends = count_dead(session)
        urgent_chats = urgent_unreferred(session)
        outcomes_needed = awaiting_outcome(session, runtime.conversations.clock())
    page = rows[:PAGE_SIZE]
    more = len(rows) > PAGE_SIZE
    next_after = f"{'u' if page[-1].urgent else 'n'}-{page[-1].id}" if more and page else None
    return render_template(
        "dashboard/queue.html",
        rows=page,
        counts={status: counts.get(status, 0) for status in STATUSES},
        filters=filters,
        statuses=STATUSES,
        sources=SOURCES,
        channels=CHANNELS,
        next_after=next_after,
        failed_sends=failed_sends,
        urgent_chats=urgent_chats,
        outcomes_needed=outcomes_needed,
    )


def _columns(stmt: Select[Any]) -> Select[Any]:
    """Only the plain columns a queue row shows: nothing to decrypt per row."""
    columns: Any = stmt.with_only_columns(
        Referral.id,
        Referral.reference,
        Referral.source,
        Referral.channel,
        Referral.status,
        Referral.urgent,
        Referral.specialist,
        Referral.created_at,
    )
    return cast("Select[Any]", columns)
