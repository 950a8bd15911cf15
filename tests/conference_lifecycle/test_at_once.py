"""Two changes to one referral, or to its conference, at the same moment take turns.

The first holds its transaction open; the second must wait for it, then see what it did: a
status already moved (so the lifecycle's rules hold), conferences already cancelled (so
nobody is told twice and the audit trail says it once). On SQLite transactions take turns
anyway; on PostgreSQL the referral and its conferences are locked for the change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from case_store.models import Conference
from case_store.referrals import find_referral
from tests.conference_helpers import (
    ALEX,
    BEA,
    add_volunteers,
    audited,
    conference_for,
    conference_statuses,
    deliver,
    in_days,
    texts_to,
)
from tests.conference_lifecycle.test_referral_ends import from_the_hub
from tests.conftest import FrozenClock
from tests.stubs.twilio_api import TwilioStub
from webhooks.casework import change_referral
from webhooks.errors import ApiError
from webhooks.runtime import Runtime

Change = Callable[[Session], None]


class Turns:
    """`first` runs and holds its transaction open while `second` starts; then both end."""

    def __init__(self, runtime: Runtime, first: Change, second: Change) -> None:
        """Prepare both; nothing runs until `run`."""
        self.runtime, self.first, self.second = runtime, first, second
        self.holding, self.release = threading.Event(), threading.Event()
        self.errors: dict[str, BaseException] = {}

    def run(self) -> bool:
        """Run both; whether the second was still waiting while the first held on."""
        first = threading.Thread(target=self._in_transaction, args=("first", self.first, True))
        second = threading.Thread(target=self._in_transaction, args=("second", self.second))
        first.start()
        assert self.holding.wait(10)
        second.start()
        second.join(0.5)
        waited = second.is_alive()
        self.release.set()
        first.join(10)
        second.join(10)
        return waited

    def _in_transaction(self, name: str, change: Change, hold: bool = False) -> None:
        try:
            with self.runtime.db.transaction() as session:
                change(session)
                if hold:
                    self.holding.set()
                    self.release.wait(10)
        except Exception as error:  # the test looks at what each one met
            self.errors[name] = error
            self.holding.set()


def arranged(app: Flask, client: FlaskClient, headers: dict[str, str], clock: FrozenClock) -> Any:
    """A referral from the hub with a conference in three days for Alex and Bea."""
    reference = from_the_hub(client, headers)
    volunteers = add_volunteers(client, headers, ALEX, BEA)
    conference = conference_for(client, headers, reference, in_days(clock, 3), volunteers)
    deliver(app, clock)
    return reference, conference


def move_to(runtime: Runtime, reference: str, status: str, actor: str) -> Change:
    """Change the referral's status as the API and the dashboard do."""

    def change(session: Session) -> None:
        referral = find_referral(session, reference, lock=True)
        assert referral is not None
        now = runtime.conversations.clock()
        change_referral(session, referral, actor, status, None, now, runtime.desk)

    return change


def test_a_second_status_change_waits_and_sees_the_first(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    runtime: Runtime = app.extensions["rj"]
    reference, conference = arranged(app, client, headers, clock)
    before = len(twilio.messages)
    close = move_to(runtime, reference, "closed", "token:first")
    withdraw = move_to(runtime, reference, "withdrawn", "token:second")
    turns = Turns(runtime, close, withdraw)
    assert turns.run()  # the second waited for the first
    assert "first" not in turns.errors
    refused = turns.errors.get("second")
    assert isinstance(refused, ApiError) and refused.status == 409  # closed -> withdrawn
    with runtime.db.transaction() as session:
        found = find_referral(session, reference)
        assert found is not None and found.status == "closed"
    assert audited(app, "conference_cancelled") == [
        ("token:first", reference, f"#{conference['id']} referral closed")
    ]
    deliver(app, clock)
    for number in (ALEX, BEA):
        assert sum("is cancelled" in text for text in texts_to(twilio, number, before)) == 1


def test_a_conference_cancelled_while_its_referral_closes_is_cancelled_once(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    runtime: Runtime = app.extensions["rj"]
    reference, conference = arranged(app, client, headers, clock)
    before = len(twilio.messages)

    def cancel(session: Session) -> None:  # as POST /api/v1/conferences/{id}/cancel does
        found = session.get(Conference, conference["id"], with_for_update=True)
        assert found is not None
        runtime.desk.cancelled(session, found, runtime.conversations.clock())

    turns = Turns(runtime, cancel, move_to(runtime, reference, "closed", "token:second"))
    assert turns.run()
    assert turns.errors == {}
    assert conference_statuses(app) == {conference["id"]: "cancelled"}
    assert audited(app, "conference_cancelled") == []  # the closure found nothing to cancel
    deliver(app, clock)
    for number in (ALEX, BEA):
        assert sum("is cancelled" in text for text in texts_to(twilio, number, before)) == 1
