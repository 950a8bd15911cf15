"""Volunteers and conferences: SMS invitations, YES/NO replies, reminders under a frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api_helpers import agency_referral, json_body, make_token
from tests.conference_helpers import audited
from tests.conftest import FrozenClock
from tests.stubs.smtp import SmtpSink, text_of
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, sms, twilio_env
from webhooks.runtime import build_worker

ACTOR = "token:Co-ordinator"  # the headers fixture's token, as the audit trail names it

SCOPES = (
    "referrals:read",
    "referrals:write",
    "volunteers:read",
    "volunteers:write",
    "conferences:read",
    "conferences:write",
)
ALEX, BEA, CAL = "+447700900201", "+447700900202", "+447700900203"


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """The stub Twilio REST API."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app(make_app: Callable[..., Flask], twilio: TwilioStub, smtp: SmtpSink) -> Flask:
    """The service with SMS and email wired to the stubs."""
    return make_app(
        RJ_SMTP_HOST="127.0.0.1", RJ_SMTP_PORT=str(smtp.port), **twilio_env(twilio.base_url)
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """A token with every scope."""
    return make_token(app.extensions["rj"], *SCOPES, name="Co-ordinator")


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker send what is due, stepping past per-person pacing."""
    worker = build_worker(app.extensions["rj"])
    worker.run_schedules()
    for _ in range(10):
        while worker.run_once():
            pass
        clock.advance(seconds=2)


def setup_conference(
    client: FlaskClient,
    headers: dict[str, str],
    clock: FrozenClock,
    volunteers: tuple[str, ...] = (ALEX, BEA),
) -> dict[str, Any]:
    """Two volunteers, a referral and a conference in three days' time."""
    ids = [
        json_body(
            client.post(
                "/api/v1/volunteers",
                json={"name": f"Volunteer {n}", "phone": phone, "skills": ["domestic_abuse"]},
                headers=headers,
            )
        )["id"]
        for n, phone in enumerate(volunteers)
    ]
    reference = json_body(
        client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    )["reference"]
    start = (clock() + timedelta(days=3)).replace(hour=10, minute=0).isoformat()
    response = client.post(
        "/api/v1/conferences",
        headers=headers,
        json={
            "referral": reference,
            "starts_at": start,
            "venue": "Parkside Community Centre",
            "volunteers": ids,
        },
    )
    assert response.status_code == 201, response.json
    return json_body(response)


def codes(conference: dict[str, Any]) -> list[str]:
    """The invitation codes, in volunteer order."""
    return [i["code"] for i in conference["invitations"]]


def statuses(client: FlaskClient, headers: dict[str, str], conference_id: int) -> list[str]:
    """Each invitation's status."""
    shown = json_body(client.get(f"/api/v1/conferences/{conference_id}", headers=headers))
    return [i["status"] for i in shown["invitations"]]


def test_invitations_yes_and_no_sorry_and_the_decline_email(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    smtp: SmtpSink,
    clock: FrozenClock,
) -> None:
    conference = setup_conference(client, headers, clock)
    deliver(app, clock)
    invites = {m["To"]: m["Body"] for m in twilio.messages}
    assert set(invites) == {ALEX, BEA}
    assert "Parkside Community Centre" in invites[ALEX] and codes(conference)[0] in invites[ALEX]
    assert "Jordan" not in invites[ALEX] and "burglary" not in invites[ALEX].lower()

    yes = sms(client, "Yes", sender=ALEX)
    assert "confirmed" in yes.get_data(as_text=True)
    no = sms(client, "no sorry", sender=BEA)
    assert "can't make" in no.get_data(as_text=True)
    assert statuses(client, headers, conference["id"]) == ["confirmed", "declined"]

    deliver(app, clock)
    subjects = [m["Subject"] for m in smtp.messages]
    assert any(s.startswith("A facilitator declined: conference #") for s in subjects)
    body = next(m for m in smtp.messages if "declined" in m["Subject"])
    assert "Volunteer" not in text_of(body) and "Jordan" not in text_of(body)


def test_the_referral_moves_to_conference_scheduled_and_counts(
    client: FlaskClient, headers: dict[str, str], clock: FrozenClock
) -> None:
    conference = setup_conference(client, headers, clock)
    referral = json_body(client.get(f"/api/v1/referrals/{conference['referral']}", headers=headers))
    assert referral["status"] == "conference_scheduled"
    assert json_body(client.get("/api/v1/stats", headers=headers))["reached_conference"] == 1


def test_reminders_and_nudges_go_out_once_at_the_right_time(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    setup_conference(client, headers, clock)
    deliver(app, clock)
    sms(client, "YES", sender=ALEX)
    clock.advance(hours=23)
    deliver(app, clock)
    assert [m["To"] for m in twilio.messages[2:]] == []  # nothing due yet
    clock.advance(hours=2)
    deliver(app, clock)
    nudges = [m for m in twilio.messages[2:] if m["To"] == BEA]
    assert len(nudges) == 1 and "haven't heard back" in nudges[0]["Body"]
    clock.advance(hours=24)  # now less than 24 hours before the start
    deliver(app, clock)
    deliver(app, clock)  # a second pass (or a restarted worker) repeats nothing
    reminders = [m for m in twilio.messages if "reminder" in m["Body"]]
    assert [m["To"] for m in reminders] == [ALEX]
    assert len([m for m in twilio.messages if m["To"] == BEA]) == 2


def test_ambiguous_yes_asks_which_and_a_code_settles_it(
    app: Flask, client: FlaskClient, headers: dict[str, str], clock: FrozenClock
) -> None:
    first = setup_conference(client, headers, clock, volunteers=(CAL,))
    second_ref = json_body(
        client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    )["reference"]
    start = (clock() + timedelta(days=5)).isoformat()
    body = {"referral": second_ref, "starts_at": start, "venue": "Town Hall", "volunteers": [1]}
    second = json_body(client.post("/api/v1/conferences", headers=headers, json=body))
    asked = sms(client, "yes", sender=CAL).get_data(as_text=True)
    assert codes(first)[0] in asked and codes(second)[0] in asked
    wrong = sms(client, "YES ZZZZ", sender=CAL).get_data(as_text=True)
    assert "couldn't find an invitation ZZZZ" in wrong
    sms(client, f"yes {codes(second)[0]}", sender=CAL)
    assert statuses(client, headers, second["id"]) == ["confirmed"]
    assert statuses(client, headers, first["id"]) == ["invited"]


def test_unknown_numbers_still_reach_the_self_referral_flow(
    app: Flask, client: FlaskClient, headers: dict[str, str], clock: FrozenClock
) -> None:
    setup_conference(client, headers, clock)
    answer = sms(client, "yes", sender="+447700900999").get_data(as_text=True)
    assert "Hello, this is" in answer


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2020-01-01T10:00:00+00:00"}, "starts_at"),
        ({"starts_at": "2030-01-01T10:00:00"}, "starts_at"),
        ({"volunteers": []}, "volunteers"),
        ({"volunteers": [99]}, "volunteers"),
        ({"referral": "RJ-ZZZZZZ"}, "referral"),
    ],
)
def test_bad_conferences_are_422(
    client: FlaskClient, headers: dict[str, str], change: dict[str, object], field: str
) -> None:
    client.post("/api/v1/volunteers", json={"name": "V", "phone": ALEX}, headers=headers)
    reference = json_body(
        client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    )["reference"]
    body = {
        "referral": reference,
        "starts_at": "2030-01-01T10:00:00+00:00",
        "venue": "Hall",
        "volunteers": [1],
        **change,
    }
    response = client.post("/api/v1/conferences", json=body, headers=headers)
    assert response.status_code == 422
    assert any(key.startswith(field) for key in json_body(response)["error"]["fields"])


def test_moving_and_cancelling_tell_each_volunteer(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    conference = setup_conference(client, headers, clock)
    deliver(app, clock)
    sms(client, "yes", sender=ALEX)
    new_start = (clock() + timedelta(days=4)).isoformat()
    moved = client.patch(
        f"/api/v1/conferences/{conference['id']}", headers=headers, json={"starts_at": new_start}
    )
    assert moved.status_code == 200
    assert [i["status"] for i in json_body(moved)["invitations"]] == ["invited", "invited"]
    cancelled = client.post(f"/api/v1/conferences/{conference['id']}/cancel", headers=headers)
    assert json_body(cancelled)["status"] == "cancelled"
    deliver(app, clock)
    bodies = [m["Body"] for m in twilio.messages]
    assert sum("has moved" in b for b in bodies) == 2
    assert sum("is cancelled" in b for b in bodies) == 2
    again = client.post(f"/api/v1/conferences/{conference['id']}/cancel", headers=headers)
    assert again.status_code == 409
    number, reference = f"#{conference['id']}", conference["referral"]
    assert audited(app, "conference_moved") == [(ACTOR, reference, f"{number} time")]
    assert audited(app, "conference_cancelled") == [(ACTOR, reference, number)]


def test_volunteers_api(client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    created = client.post(
        "/api/v1/volunteers",
        headers=headers,
        json={"name": "Dee", "phone": "+447700900204", "skills": ["sexual_harm"]},
    )
    assert created.status_code == 201 and json_body(created)["id"] == 1
    assert (
        client.post(
            "/api/v1/volunteers", headers=headers, json={"name": "Dee", "phone": "+447700900204"}
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/v1/volunteers", headers=headers, json={"name": "E", "phone": "07700 900"}
        ).status_code
        == 422
    )
    listed = json_body(client.get("/api/v1/volunteers", headers=headers))["items"]
    assert [(v["name"], v["phone"], v["active"]) for v in listed] == [
        ("Dee", "+447700900204", True)
    ]
    read_only = make_token(app.extensions["rj"], "volunteers:read")
    assert (
        client.post(
            "/api/v1/volunteers", headers=read_only, json={"name": "F", "phone": "+447700900205"}
        ).status_code
        == 403
    )


def test_a_volunteers_stop_is_honoured_even_with_an_invitation_waiting(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    conference = setup_conference(client, headers, clock)
    deliver(app, clock)
    answered = sms(client, "STOP", sender=BEA).get_data(as_text=True)
    assert "You won't get any more messages from us" in answered
    assert statuses(client, headers, conference["id"]) == ["invited", "invited"]
    sent_before = len([m for m in twilio.messages if m["To"] == BEA])
    clock.advance(days=2, hours=1)  # past the nudge and into the reminder window
    deliver(app, clock)
    assert len([m for m in twilio.messages if m["To"] == BEA]) == sent_before
