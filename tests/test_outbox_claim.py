"""The worker's claim against a plain model of what it must take, over any outbox; pacing.

What may go next: each recipient's first send not yet gone (pending, or sending), only when
it is due (pending and due, or sending with its lease run out), never while another send to
the same person is under a live lease; the earliest due first; at most `limit`. The claim
finds those by walking a partial index (case_store/outbox.py); the model reads every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from case_store.conversations import address_hash
from case_store.models import OutboxItem
from case_store.outbox import claim, mark_sent
from tests.conftest import FROZEN_NOW
from webhooks.runtime import Runtime

NOW = FROZEN_NOW
PEOPLE = [f"+4477009000{n:02d}" for n in range(6)]
STATUSES = ("pending", "sending", "sent", "cancelled", "dead")


@dataclass(frozen=True)
class Row:
    """One send: to whom, in what state, due or leased when (seconds from now)."""

    person: int
    status: str
    due_in: int
    lease_in: int


ROWS = st.lists(
    st.builds(
        Row,
        person=st.integers(0, len(PEOPLE) - 1),
        status=st.sampled_from(STATUSES),
        due_in=st.integers(-5, 5),
        lease_in=st.integers(-5, 5),
    ),
    max_size=40,
)


def expected(rows: list[Row], limit: int) -> set[int]:
    """The ids (1-based, in insert order) the claim must take."""
    first: dict[int, int] = {}
    for number, row in enumerate(rows, start=1):
        if row.status in ("pending", "sending"):
            first.setdefault(row.person, number)
    busy = {row.person for row in rows if row.status == "sending" and row.lease_in > 0}
    due = [
        (rows[number - 1].due_in, number)
        for person, number in first.items()
        if person not in busy and _due(rows[number - 1])
    ]
    return {number for _, number in sorted(due)[:limit]}


def _due(row: Row) -> bool:
    return (row.status == "pending" and row.due_in <= 0) or (
        row.status == "sending" and row.lease_in <= 0
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=ROWS, limit=st.integers(1, 4))
def test_the_claim_takes_what_the_model_says(runtime: Runtime, rows: list[Row], limit: int) -> None:
    with runtime.db.transaction() as session:
        session.execute(delete(OutboxItem))
        for number, row in enumerate(rows, start=1):
            session.execute(insert(OutboxItem).values(**_columns(number, row)))
    with runtime.db.transaction() as session:
        won = claim(session, NOW, lease_seconds=30, limit=limit)
        leased_now = OutboxItem.lease_until == NOW + timedelta(seconds=30)
        leased = set(session.scalars(select(OutboxItem.id).where(leased_now)))
    assert set(won) == expected(rows, limit)
    assert leased == set(won)


def _columns(number: int, row: Row) -> dict[str, object]:
    phone = PEOPLE[row.person]
    return {
        "id": number,
        "kind": "sms",
        "dedupe_key": f"claim-test:{number}",
        "recipient": phone,
        "recipient_hash": address_hash("sms", phone),
        "payload": {"body": "Hello"},
        "status": row.status,
        "attempts": 1,
        "next_attempt_at": NOW + timedelta(seconds=row.due_in),
        "lease_until": NOW + timedelta(seconds=row.lease_in) if row.status == "sending" else None,
        "created_at": NOW,
    }


def test_a_persons_next_send_waits_a_second_after_the_last_went(runtime: Runtime) -> None:
    """Pacing (one message a second to a chat): only the sender's own queue is held back."""
    with runtime.db.transaction() as session:
        for number, person in enumerate([0, 0, 0, 1], start=1):
            row = Row(person, "pending", due_in=-5, lease_in=0)
            session.execute(insert(OutboxItem).values(**_columns(number, row)))
    with runtime.db.transaction() as session:
        assert claim(session, NOW, lease_seconds=30) == [1, 4]
        mark_sent(session, session.get_one(OutboxItem, 1), NOW)
    with runtime.db.transaction() as session:
        assert claim(session, NOW, lease_seconds=30) == []  # person 0's next: not for a second
        assert session.get_one(OutboxItem, 3).next_attempt_at == NOW + timedelta(seconds=1)
    with runtime.db.transaction() as session:
        assert claim(session, NOW + timedelta(seconds=1), lease_seconds=30) == [2]
