"""A referral that stops being live takes its conferences to come with it.

Whichever way it stops (a status change by the API or the dashboard, DELETE in the chat,
erasure from the dashboard), each conference still to come is cancelled as a co-ordinator
cancels one: the volunteers still coming are told, nothing reminds them afterwards, and the
audit trail says why. A conference already started is left for its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api_helpers import agency_referral, json_body
from tests.conference_helpers import (
    ALEX,
    BEA,
    VENUE,
    VICTIM,
    add_volunteers,
    answer,
    audited,
    conference_for,
    conference_statuses,
    deliver,
    in_days,
    texts_to,
)
from tests.conftest import FrozenClock
from tests.dashboard_helpers import EMAIL, self_referral, submit
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms

Headers = dict[str, str]
TOKEN, STAFF = "token:Co-ordinator", f"staff:{EMAIL}"


# -- referrals, and the ways they stop ---------------------------------------------------------
def by_sms(client: FlaskClient, headers: Headers) -> str:
    """A self-referral by SMS from VICTIM; its reference."""
    return self_referral(client, sender=VICTIM)


def from_the_hub(client: FlaskClient, headers: Headers) -> str:
    """A referral from the Victims' Hub through the API; its reference."""
    response = client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    assert response.status_code == 201
    return str(json_body(response)["reference"])


def through_the_api(status: str) -> Callable[[FlaskClient, Headers, str], None]:
    """PATCH the referral's status."""

    def move(client: FlaskClient, headers: Headers, reference: str) -> None:
        patched = client.patch(
            f"/api/v1/referrals/{reference}", json={"status": status}, headers=headers
        )
        assert patched.status_code == 200, patched.json
        assert json_body(patched)["status"] == status

    move.__name__ = f"{status}_through_the_api"
    return move


def on_the_dashboard(status: str) -> Callable[[FlaskClient, Headers, str], None]:
    """Choose the status on the referral's page."""

    def move(staff: FlaskClient, headers: Headers, reference: str) -> None:
        page = f"/coordinator/referrals/{reference}"
        moved = submit(staff, page, f"{page}/status", {"status": status}, "status-")
        assert moved.status_code == 302

    move.__name__ = f"{status}_on_the_dashboard"
    return move


def deleted_in_the_chat(client: FlaskClient, headers: Headers, reference: str) -> None:
    """The person sends DELETE and confirms it."""
    sms(client, "DELETE", sender=VICTIM)
    assert "deleted" in sms(client, "yes", sender=VICTIM).get_data(as_text=True)


def erased_on_the_dashboard(staff: FlaskClient, headers: Headers, reference: str) -> None:
    """Staff erase the referral, typing its reference to confirm."""
    page = f"/coordinator/referrals/{reference}"
    assert submit(staff, page, f"{page}/erase", {"confirm": reference}, "erase-").status_code == 302


WAYS = [
    (from_the_hub, through_the_api("withdrawn"), TOKEN, "referral withdrawn"),
    (from_the_hub, through_the_api("closed"), TOKEN, "referral closed"),
    (from_the_hub, through_the_api("completed"), TOKEN, "referral completed"),
    (from_the_hub, on_the_dashboard("withdrawn"), STAFF, "referral withdrawn"),
    (from_the_hub, on_the_dashboard("closed"), STAFF, "referral closed"),
    (by_sms, deleted_in_the_chat, "person", "referral erased"),
    (by_sms, erased_on_the_dashboard, STAFF, "referral erased"),
    (from_the_hub, erased_on_the_dashboard, STAFF, "referral erased"),
]


def arranged(
    staff: FlaskClient, headers: Headers, app: Flask, clock: FrozenClock, reference: str
) -> dict[str, Any]:
    """A conference in three days for Alex and Bea: both invited, Alex said yes."""
    volunteers = add_volunteers(staff, headers, ALEX, BEA)
    conference = conference_for(staff, headers, reference, in_days(clock, 3), volunteers)
    deliver(app, clock)
    assert "confirmed" in answer(staff, ALEX, "yes")
    return conference


@pytest.mark.parametrize(
    ("refer", "stop", "actor", "why"),
    WAYS,
    ids=[f"{refer.__name__}-{stop.__name__}" for refer, stop, _, _ in WAYS],
)
def test_each_way_a_referral_stops_cancels_its_conferences_to_come(
    staff: FlaskClient,
    headers: Headers,
    app: Flask,
    twilio: TwilioStub,
    clock: FrozenClock,
    refer: Callable[[FlaskClient, Headers], str],
    stop: Callable[[FlaskClient, Headers, str], None],
    actor: str,
    why: str,
) -> None:
    reference = refer(staff, headers)
    conference = arranged(staff, headers, app, clock, reference)
    codes = [str(i["code"]) for i in conference["invitations"]]
    before = len(twilio.messages)
    stop(staff, headers, reference)
    assert conference_statuses(app) == {conference["id"]: "cancelled"}
    cancelled = (actor, reference, f"#{conference['id']} {why}")
    assert audited(app, "conference_cancelled") == [cancelled]
    deliver(app, clock)
    for number, code in zip((ALEX, BEA), codes, strict=True):
        [told] = texts_to(twilio, number, before)
        assert "is cancelled" in told and code in told
        # no venue (an erased one would read "at ,"), nothing of the person or the case
        assert VENUE not in told and " at ," not in told
        words = set(told.replace(".", " ").split())
        assert words.isdisjoint({"Sam", "Quayle", "Jordan", "Ellis", reference})
    sent = len(twilio.messages)
    clock.advance(days=2, hours=12)  # past the nudge for Bea, into Alex's reminder window
    deliver(app, clock)
    assert twilio.messages[sent:] == []


def test_a_reminder_and_a_nudge_already_queued_do_not_go(
    app: Flask, client: FlaskClient, headers: Headers, twilio: TwilioStub, clock: FrozenClock
) -> None:
    reference = from_the_hub(client, headers)
    arranged(client, headers, app, clock, reference)
    before = len(twilio.messages)
    clock.advance(days=2, hours=1)
    runtime = app.extensions["rj"]
    with runtime.db.transaction() as session:  # the schedules ran; the worker has not yet
        due = runtime.desk.run_schedules(session, clock())
    assert (due["reminders"], due["nudges"]) == (1, 1)
    through_the_api("withdrawn")(client, headers, reference)
    deliver(app, clock)
    for number in (ALEX, BEA):  # neither "a reminder that you're facilitating" nor a nudge
        assert ["is cancelled" in body for body in texts_to(twilio, number, before)] == [True]


def test_a_conference_already_started_is_left_for_its_outcome(
    app: Flask, client: FlaskClient, headers: Headers, twilio: TwilioStub, clock: FrozenClock
) -> None:
    reference = from_the_hub(client, headers)
    [alex] = add_volunteers(client, headers, ALEX)
    started = conference_for(client, headers, reference, in_days(clock, 1), [alex])
    clock.advance(days=2)
    to_come = conference_for(client, headers, reference, in_days(clock, 3), [alex])
    deliver(app, clock)
    before = len(twilio.messages)
    through_the_api("closed")(client, headers, reference)
    deliver(app, clock)
    statuses = conference_statuses(app)
    assert (statuses[started["id"]], statuses[to_come["id"]]) == ("scheduled", "cancelled")
    [told] = texts_to(twilio, ALEX, before)
    assert str(to_come["invitations"][0]["code"]) in told
    assert [detail for *_, detail in audited(app, "conference_cancelled")] == [
        f"#{to_come['id']} referral closed"
    ]


def test_a_move_within_casework_keeps_the_conferences(
    app: Flask, client: FlaskClient, headers: Headers, twilio: TwilioStub, clock: FrozenClock
) -> None:
    reference = from_the_hub(client, headers)
    conference = arranged(client, headers, app, clock, reference)
    before = len(twilio.messages)
    through_the_api("assessing")(client, headers, reference)
    deliver(app, clock)
    assert conference_statuses(app) == {conference["id"]: "scheduled"}
    assert twilio.messages[before:] == [] and audited(app, "conference_cancelled") == []
