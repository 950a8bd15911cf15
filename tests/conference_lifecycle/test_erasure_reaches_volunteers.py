"""Erasure reaches what volunteers were sent about the referral's conferences.

Invitations, nudges and reminders (sent or still queued), a volunteer's answers and our
replies all give a conference's time and place. Erasing the referral, by DELETE in the chat or
from the dashboard, blanks each one's text and keeps the row; another referral's stay whole.
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
    CAL,
    VENUE,
    VICTIM,
    add_volunteers,
    answer,
    conference_for,
    deliver,
    in_days,
    texts_to,
    volunteer_sms,
)
from tests.conftest import FrozenClock
from tests.dashboard_helpers import log_in, self_referral, submit
from tests.privacy_helpers import decrypted_dump
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms

Headers = dict[str, str]
Conference = dict[str, Any]
TOWN_HALL = "Town Hall"


def delete_in_the_chat(staff: FlaskClient, reference: str) -> None:
    """The person sends DELETE and confirms it."""
    sms(staff, "DELETE", sender=VICTIM)
    assert "deleted" in sms(staff, "yes", sender=VICTIM).get_data(as_text=True)


def erase_on_the_dashboard(staff: FlaskClient, reference: str) -> None:
    """Staff log in again (days have passed) and erase the referral, typing its reference."""
    assert log_in(staff).status_code == 302
    page = f"/coordinator/referrals/{reference}"
    assert submit(staff, page, f"{page}/erase", {"confirm": reference}, "erase-").status_code == 302


def two_referrals_in_conference(
    staff: FlaskClient, headers: Headers, app: Flask, clock: FrozenClock
) -> tuple[str, Conference, Conference]:
    """The person's referral meets at Parkside with Alex and Cal; another, from the Hub, at the
    Town Hall with Bea and Cal. All were invited and have answered (Cal: "which one?"); a
    reminder and nudges are queued, not yet sent. The person's reference and both conferences.
    """
    reference = self_referral(staff, sender=VICTIM)
    other = json_body(staff.post("/api/v1/referrals", json=agency_referral(), headers=headers))
    alex, bea, cal = add_volunteers(staff, headers, ALEX, BEA, CAL)
    theirs = conference_for(staff, headers, reference, in_days(clock, 3), [alex, cal])
    others = conference_for(
        staff, headers, other["reference"], in_days(clock, 5), [bea, cal], venue=TOWN_HALL
    )
    deliver(app, clock)
    assert VENUE in answer(staff, ALEX, "yes")
    assert TOWN_HALL in answer(staff, BEA, "yes")
    assert "You have 2 invitations" in answer(staff, CAL, "yes")
    clock.advance(days=2, hours=1)
    runtime = app.extensions["rj"]
    with runtime.db.transaction() as session:
        due = runtime.desk.run_schedules(session, clock())
    assert (due["reminders"], due["nudges"]) == (1, 2)  # Alex's reminder; a nudge each for Cal
    return reference, theirs, others


@pytest.mark.parametrize("erase", [delete_in_the_chat, erase_on_the_dashboard])
def test_erasure_blanks_every_sms_about_the_referrals_conferences_and_no_other(
    staff: FlaskClient,
    headers: Headers,
    app: Flask,
    twilio: TwilioStub,
    clock: FrozenClock,
    erase: Callable[[FlaskClient, str], None],
) -> None:
    reference, theirs, others = two_referrals_in_conference(staff, headers, app, clock)
    sends, bodies = volunteer_sms(app, theirs["id"])
    assert sorted(s.status for s in sends) == ["pending", "pending", "sent", "sent"]
    assert all(VENUE in s.payload["text"] for s in sends)
    assert len(bodies) == 4 and all(bodies.values())  # two answers, two replies
    kept = volunteer_sms(app, others["id"])
    erase(staff, reference)
    after, blanked = volunteer_sms(app, theirs["id"])
    assert blanked == dict.fromkeys(bodies)  # the rows stay, their text is gone
    was = {s.id: s.status for s in sends}
    assert [(s.recipient, s.payload, s.status) for s in after if s.id in was] == [
        ("", {}, "cancelled" if was[s.id] == "pending" else "sent") for s in sends
    ]
    queued = [s for s in after if s.id not in was]  # the cancellations: no place named
    assert [s.key.split(":")[0] for s in queued] == ["cancelled", "cancelled"]
    # the other referral's stay whole, but Cal's "which one?" (it listed both) and its answer
    both = set(bodies) & set(kept[1])
    assert len(both) == 2
    assert volunteer_sms(app, others["id"]) == (
        kept[0],
        {key: None if key in both else body for key, body in kept[1].items()},
    )
    dump = decrypted_dump(app.extensions["rj"].db)
    assert VENUE not in dump and TOWN_HALL in dump
    told = len(twilio.messages)
    deliver(app, clock)
    assert not any(VENUE in m["Body"] for m in twilio.messages[told:])
    assert ["is cancelled" in b for b in texts_to(twilio, ALEX, told)] == [True]  # no reminder
    assert sum("is cancelled" in b for b in texts_to(twilio, CAL, told)) == 1
