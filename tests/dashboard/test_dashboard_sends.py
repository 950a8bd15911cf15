"""Failed sends on the dashboard: dead letters listed without personal data, and tried again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from case_store.models import AuditEntry, OutboxItem
from case_store.outbox import enqueue, mark_failed
from tests.conftest import FrozenClock
from tests.dashboard_helpers import csrf_token, deliver, self_referral, submit
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms

PHONE = "+447700900123"
TEXT = "Hello, this is Alex from the service. When is good to talk?"
PAGE = "/coordinator/sends"


def message_them(staff: FlaskClient, reference: str) -> None:
    """The co-ordinator messages the person from their referral page."""
    page = f"/coordinator/referrals/{reference}"
    fields = {"text": TEXT, "outside_safe_times": "y"}
    assert submit(staff, page, f"{page}/message", fields, "message-").status_code == 302


def the_send(app: Flask, text: str = TEXT) -> OutboxItem:
    """The outbox row carrying `text`."""
    with app.extensions["rj"].db.transaction() as session:
        items = session.scalars(select(OutboxItem)).all()
        return next(item for item in items if item.payload.get("text") == text)


def retry(staff: FlaskClient, item_id: int) -> int:
    """Press "Try again" on the failed sends page; the status code."""
    return submit(staff, PAGE, f"{PAGE}/{item_id}/retry", {}).status_code


@pytest.fixture
def dead(staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock) -> tuple[str, int]:
    """A message to a self-referrer that Twilio refused for good: (reference, outbox id)."""
    reference = self_referral(staff)
    deliver(app, clock)  # whatever the conversation queued goes first
    twilio.fail_next(status=400, code=21211, message=f"Invalid 'To' Phone Number: {PHONE}")
    message_them(staff, reference)
    deliver(app, clock)
    item = the_send(app)
    assert item.status == "dead" and item.recipient == PHONE
    return reference, item.id


def test_the_page_lists_a_dead_send_without_its_recipient_or_text(
    staff: FlaskClient, dead: tuple[str, int]
) -> None:
    reference, _ = dead
    page = staff.get(PAGE)
    assert page.status_code == 200
    assert "<h1>Failed sends</h1>" in page.text and "<caption>" in page.text
    assert reference in page.text and "SMS" in page.text and "Person who contacted us" in page.text
    assert "Twilio error 400 code 21211" in page.text and "Try again" in page.text
    assert "number ending 123" in page.text
    for secret in (PHONE, "07700 900123", "900123", TEXT, "When is good to talk"):
        assert secret not in page.text
    queue = staff.get("/coordinator/").text
    assert "1 message or email could not be sent" in queue and f'href="{PAGE}"' in queue


def test_try_again_puts_it_back_and_the_worker_sends_it(
    staff: FlaskClient,
    app: Flask,
    twilio: TwilioStub,
    clock: FrozenClock,
    dead: tuple[str, int],
) -> None:
    reference, item_id = dead
    assert retry(staff, item_id) == 302
    item = the_send(app)
    assert (item.status, item.attempts, item.next_attempt_at) == ("pending", 0, clock())
    with app.extensions["rj"].db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "send retried")).one()
        assert (entry.referral_reference, entry.detail) == (reference, f"sms {item_id}")
        assert entry.actor == "staff:coordinator@example.org"
    before = len(twilio.messages)
    deliver(app, clock)
    assert [(m["To"], m["Body"]) for m in twilio.messages[before:]] == [(PHONE, TEXT)]
    assert the_send(app).status == "sent"
    assert "No failed sends" in staff.get(PAGE).text
    assert "could not be sent" not in staff.get("/coordinator/").text


def test_try_again_without_the_csrf_token_is_400(
    staff: FlaskClient, app: Flask, dead: tuple[str, int]
) -> None:
    _, item_id = dead
    assert staff.post(f"{PAGE}/{item_id}/retry").status_code == 400
    assert the_send(app).status == "dead"


def test_try_again_of_a_send_that_is_not_dead_is_409(
    staff: FlaskClient, app: Flask, dead: tuple[str, int]
) -> None:
    _, item_id = dead
    assert retry(staff, item_id) == 302
    token = csrf_token(staff, PAGE)
    again = staff.post(f"{PAGE}/{item_id}/retry", data={"csrf_token": token})
    assert again.status_code == 409 and "no longer in the failed list" in again.text
    assert (the_send(app).status, the_send(app).attempts) == ("pending", 0)
    assert staff.post(f"{PAGE}/999999/retry", data={"csrf_token": token}).status_code == 404


def test_try_again_is_refused_once_they_have_opted_out(
    staff: FlaskClient, app: Flask, dead: tuple[str, int]
) -> None:
    _, item_id = dead
    sms(staff, "STOP")
    assert "asked for no more messages" in staff.get(PAGE).text  # no button offered
    token = csrf_token(staff, "/coordinator/")
    refused = staff.post(f"{PAGE}/{item_id}/retry", data={"csrf_token": token})
    assert refused.status_code == 409 and "asked for no more messages" in refused.text
    assert (the_send(app).status, the_send(app).attempts) == ("dead", 1)


def test_try_again_is_refused_once_they_have_been_erased(
    staff: FlaskClient, app: Flask, dead: tuple[str, int]
) -> None:
    reference, item_id = dead
    page = f"/coordinator/referrals/{reference}"
    assert submit(staff, page, f"{page}/erase", {"confirm": reference}, "erase-").status_code == 302
    token = csrf_token(staff, "/coordinator/")
    refused = staff.post(f"{PAGE}/{item_id}/retry", data={"csrf_token": token})
    assert refused.status_code == 409 and "data has been erased" in refused.text
    with app.extensions["rj"].db.transaction() as session:
        item = session.get_one(OutboxItem, item_id)
        assert (item.status, item.recipient, item.payload) == ("dead", "", {})  # erased too


def test_a_failed_email_shows_its_referral_and_a_masked_address(
    staff: FlaskClient, app: Flask, clock: FrozenClock
) -> None:
    reference = self_referral(staff)
    runtime = app.extensions["rj"]
    with runtime.db.transaction() as session:
        item = enqueue(
            session,
            kind="email",
            recipient="hub.lead@example.org",
            payload={"subject": "s", "text": "t", "html": "<p>h</p>"},
            dedupe_key=f"email:again:{reference}:hub.lead@example.org",
            now=clock(),
        )
        assert item is not None
        item.attempts = 1
        mark_failed(session, item, "SMTP refused: SMTPRecipientsRefused", clock(), permanent=True)
    page = staff.get(PAGE).text
    assert "Email" in page and "Co-ordinator" in page and "h…@example.org" in page
    assert f">{reference}</a>" in page and "hub.lead" not in page


def test_a_volunteer_invitation_that_failed_shows_its_referral(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    volunteer = {"name": "Alex Volunteer", "phone": "07700 900201", "active": "y"}
    assert submit(staff, "/coordinator/volunteers", "/coordinator/volunteers", volunteer, "new-")
    reference = self_referral(staff)
    deliver(app, clock)
    twilio.fail_next(status=400, code=21211, message="Invalid 'To' Phone Number")
    page = f"/coordinator/referrals/{reference}"
    when = (clock() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    fields = {"starts_at": when, "venue": "Parkside", "volunteers": "1", "min_facilitators": "1"}
    assert submit(staff, page, f"{page}/conferences", fields, "conference-").status_code == 302
    deliver(app, clock)
    shown = staff.get(PAGE).text
    assert "Volunteer" in shown and f">{reference}</a>" in shown and "number ending 201" in shown
    assert "+447700900201" not in shown and "Parkside" not in shown


def test_not_logged_in_is_sent_to_the_login(client: FlaskClient) -> None:
    shown = client.get(PAGE)
    assert shown.status_code == 302 and shown.headers["Location"].startswith("/coordinator/login")
    token = csrf_token(client, "/coordinator/login")
    posted = client.post(f"{PAGE}/1/retry", data={"csrf_token": token})
    assert posted.status_code == 302
    assert posted.headers["Location"].startswith("/coordinator/login")
