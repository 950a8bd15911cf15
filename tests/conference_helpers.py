"""Volunteers, conferences and what they were sent, for the conference lifecycle tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from case_store.models import AuditEntry, Conference, InvitationSms, Message, OutboxItem
from tests.api_helpers import json_body
from tests.conftest import FrozenClock
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms
from webhooks.runtime import build_worker

ALEX, BEA, CAL = "+447700900201", "+447700900202", "+447700900203"
VICTIM = "+447700900123"  # the self-referral's number (tests/dashboard_helpers.py)
VENUE = "Parkside Community Centre"


def add_volunteers(client: FlaskClient, headers: dict[str, str], *phones: str) -> list[int]:
    """Volunteers with these numbers, added through the API; their ids."""
    ids = []
    for n, phone in enumerate(phones):
        body = {"name": f"Volunteer {n}", "phone": phone}
        response = client.post("/api/v1/volunteers", json=body, headers=headers)
        assert response.status_code == 201, response.json
        ids.append(int(json_body(response)["id"]))
    return ids


def conference_for(
    client: FlaskClient,
    headers: dict[str, str],
    reference: str,
    start: Any,
    volunteers: list[int],
    venue: str = VENUE,
) -> dict[str, Any]:
    """A conference for the referral at `start` (an aware datetime), arranged through the API."""
    body = {
        "referral": reference,
        "starts_at": start.isoformat(),
        "venue": venue,
        "volunteers": volunteers,
        "min_facilitators": 1,
    }
    response = client.post("/api/v1/conferences", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return json_body(response)


def in_days(clock: FrozenClock, days: int) -> Any:
    """10:00 (UTC) `days` days from now."""
    return (clock() + timedelta(days=days)).replace(hour=10, minute=0)


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker run the schedules and send what is due, stepping past pacing."""
    worker = build_worker(app.extensions["rj"], retention=False)
    worker.run_schedules()
    for _ in range(5):
        while worker.run_once():
            pass
        clock.advance(seconds=2)


def texts_to(twilio: TwilioStub, number: str, since: int = 0) -> list[str]:
    """The bodies of the SMS Twilio was asked to send to `number`, from the `since`th on."""
    return [m["Body"] for m in twilio.messages[since:] if m["To"] == number]


def answer(client: FlaskClient, volunteer: str, text: str) -> str:
    """A volunteer's SMS reply; what we answered (TwiML)."""
    response = sms(client, text, sender=volunteer)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def conference_statuses(app: Flask) -> dict[int, str]:
    """Every conference's status, by id."""
    with app.extensions["rj"].db.transaction() as session:
        rows = session.execute(select(Conference.id, Conference.status))
        return {conference_id: status for conference_id, status in rows}


def audited(app: Flask, action: str) -> list[tuple[str, str | None, str | None]]:
    """(actor, reference, detail) of each audit entry for `action`, oldest first."""
    with app.extensions["rj"].db.transaction() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.referral_reference, AuditEntry.detail)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return [(actor, reference, detail) for actor, reference, detail in rows]


class Send(NamedTuple):
    """A send queued for a volunteer, as stored (decrypted)."""

    id: int
    key: str
    status: str
    recipient: str
    payload: dict[str, Any]


def volunteer_sms(app: Flask, conference_id: int) -> tuple[list[Send], dict[int, str | None]]:
    """The sends queued about a conference's invitations, and the bodies of the messages
    (volunteers' answers, our replies) about them, by id."""
    with app.extensions["rj"].db.transaction() as session:
        conference = session.get_one(Conference, conference_id)
        about = [invitation.id for invitation in conference.invitations]
        links = list(
            session.scalars(select(InvitationSms).where(InvitationSms.invitation_id.in_(about)))
        )
        items = [session.get_one(OutboxItem, link.outbox_id) for link in links if link.outbox_id]
        sends = [Send(i.id, i.dedupe_key, i.status, i.recipient, i.payload) for i in items]
        ids = [link.message_id for link in links if link.message_id]
        bodies = {m.id: m.body for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
        return sorted(sends), bodies
