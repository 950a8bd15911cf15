"""The co-ordinator's dashboard through Flask's test client (the browser tests are apart)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from case_store.models import AuditEntry, OutboxItem, Referral
from case_store.tokens import SCOPES
from tests.api_helpers import agency_referral, json_body, make_token
from tests.conftest import FrozenClock
from tests.dashboard_helpers import (
    EMAIL,
    add_user,
    csrf_token,
    deliver,
    log_in,
    self_referral,
    submit,
)
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms


def api_referral(app: Flask, **changes: object) -> str:
    """A referral from the Victims' Hub, through the API; its reference."""
    headers = make_token(app.extensions["rj"], *SCOPES)
    response = app.test_client().post(
        "/api/v1/referrals", json=agency_referral(**changes), headers=headers
    )
    assert response.status_code == 201
    return str(json_body(response)["reference"])


# -- logging in ------------------------------------------------------------------------------
def test_not_logged_in_is_sent_to_the_login(client: FlaskClient, app: Flask) -> None:
    reference = api_referral(app)
    for path in ("/coordinator/", f"/coordinator/referrals/{reference}", "/coordinator/reports"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/coordinator/login")


def test_api_tokens_do_not_open_the_dashboard(client: FlaskClient, app: Flask) -> None:
    headers = make_token(app.extensions["rj"], *SCOPES)
    response = client.get("/coordinator/", headers=headers)
    assert response.status_code == 302


def test_wrong_password_or_email_gets_the_same_plain_message(client: FlaskClient) -> None:
    wrong_password = log_in(client, password="not the password at all")
    wrong_email = log_in(client, email="nobody@example.org")
    for response in (wrong_password, wrong_email):
        assert response.status_code == 401
        assert "do not match a login" in response.text
        assert "password is wrong" not in response.text.lower()
    assert client.get("/coordinator/").status_code == 302


def test_a_form_without_its_csrf_token_is_400(client: FlaskClient, staff: FlaskClient) -> None:
    response = client.post("/coordinator/login", data={"email": EMAIL, "password": "x" * 20})
    assert response.status_code == 400
    reference = api_referral(client.application)
    response = staff.post(f"/coordinator/referrals/{reference}/notes", data={"note-note": "hi"})
    assert response.status_code == 400
    page = staff.get(f"/coordinator/referrals/{reference}")
    assert "hi</p>" not in page.text


def test_login_sets_safe_cookies_and_logout_ends_the_session(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RJ_PUBLIC_BASE_URL="https://rj.example.org")
    add_user(app)
    client = app.test_client()
    base = "https://rj.example.org"
    token = csrf_token(client, f"{base}/coordinator/login")
    response = client.post(
        f"{base}/coordinator/login",
        data={"email": EMAIL, "password": "a long passphrase for tests", "csrf_token": token},
        headers={"Referer": f"{base}/coordinator/login"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert client.get(f"{base}/coordinator/").status_code == 200
    token = csrf_token(client, f"{base}/coordinator/")
    client.post(
        f"{base}/coordinator/logout",
        data={"csrf_token": token},
        headers={"Referer": f"{base}/coordinator/"},
    )
    assert client.get(f"{base}/coordinator/").status_code == 302


def test_an_idle_session_is_logged_out(staff: FlaskClient, clock: FrozenClock) -> None:
    assert staff.get("/coordinator/").status_code == 200
    clock.advance(minutes=29)
    assert staff.get("/coordinator/").status_code == 200
    clock.advance(minutes=31)
    response = staff.get("/coordinator/")
    assert response.status_code == 302
    assert "activity" in staff.get("/coordinator/login").text


def test_login_attempts_are_rate_limited(client: FlaskClient) -> None:
    statuses = [log_in(client, password=f"wrong guess number {n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert log_in(client).status_code == 429  # even the right password waits


def test_a_deactivated_login_cannot_log_in(client: FlaskClient, app: Flask) -> None:
    runtime = app.extensions["rj"]
    from case_store.users import find_user

    with runtime.db.transaction() as session:
        user = find_user(session, EMAIL)
        assert user is not None
        user.active = False
    assert log_in(client).status_code == 401


# -- the queue -------------------------------------------------------------------------------
def test_the_queue_shows_urgent_first_then_newest_with_counts(
    staff: FlaskClient, app: Flask
) -> None:
    first, second = api_referral(app), api_referral(app)
    urgent = self_referral(staff)
    with app.extensions["rj"].db.transaction() as session:
        row = session.scalars(select(Referral).where(Referral.reference == urgent)).one()
        row.urgent = True
    page = staff.get("/coordinator/").text
    assert page.index(urgent) < page.index(second) < page.index(first)
    assert "New: <strong>3</strong>" in page
    assert "Urgent" in page
    assert first in staff.get("/coordinator/?source=victims_hub").text
    assert urgent not in staff.get("/coordinator/?source=victims_hub").text
    assert urgent in staff.get("/coordinator/?channel=sms").text
    assert staff.get("/coordinator/?status=nonsense").status_code == 400


def test_the_queue_pages_through_many_referrals(staff: FlaskClient, app: Flask) -> None:
    references = [api_referral(app) for _ in range(53)]
    first = staff.get("/coordinator/").text
    assert references[-1] in first and references[2] not in first
    assert "Next page" in first
    link = first.split('href="/coordinator/?after=')[1].split('"')[0]
    second = staff.get(f"/coordinator/?after={link}").text
    assert all(reference in second for reference in references[:3])
    assert references[-1] not in second
    assert staff.get("/coordinator/?after=x-y").status_code == 400


# -- one referral ----------------------------------------------------------------------------
def test_unknown_reference_is_404(staff: FlaskClient) -> None:
    assert staff.get("/coordinator/referrals/RJ-ZZZZZZ").status_code == 404


def test_the_referral_page_shows_everything_and_is_audited(staff: FlaskClient, app: Flask) -> None:
    reference = self_referral(staff)
    page = staff.get(f"/coordinator/referrals/{reference}").text
    assert "Sam Quayle" in page  # the answers
    assert "Consent record" in page and "version" in page  # what was shown, item by item
    assert "They wrote" in page and "CF0123450224" in page  # the transcript
    assert "Audit trail" in page
    with app.extensions["rj"].db.transaction() as session:
        actions = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.referral_reference == reference, AuditEntry.action == "viewed"
            )
        ).all()
    assert actions == [f"staff:{EMAIL}"]


def test_status_changes_follow_the_lifecycle(staff: FlaskClient, app: Flask) -> None:
    reference = api_referral(app)
    page = f"/coordinator/referrals/{reference}"
    action = f"{page}/status"
    assert submit(staff, page, action, {"status": "contacted"}, "status-").status_code == 302
    assert "contacted" in staff.get(page).text
    refused = submit(staff, page, action, {"status": "completed"}, "status-")
    assert refused.status_code == 422
    headers = make_token(app.extensions["rj"], *SCOPES)
    shown = json_body(app.test_client().get(f"/api/v1/referrals/{reference}", headers=headers))
    assert shown["status"] == "contacted" and shown["first_contact_at"]


def test_notes_are_added_and_empty_notes_refused(staff: FlaskClient, app: Flask) -> None:
    reference = api_referral(app)
    page = f"/coordinator/referrals/{reference}"
    assert (
        submit(staff, page, f"{page}/notes", {"note": "Called, no answer."}, "note-").status_code
        == 302
    )
    assert "Called, no answer." in staff.get(page).text
    assert submit(staff, page, f"{page}/notes", {"note": ""}, "note-").status_code == 422


def test_scheduling_a_conference_invites_volunteers_by_sms(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    add = {
        "name": "Alex Volunteer",
        "phone": "07700 900201",
        "skills": "domestic_abuse",
        "active": "y",
    }
    assert (
        submit(staff, "/coordinator/volunteers", "/coordinator/volunteers", add, "new-").status_code
        == 302
    )
    reference = api_referral(app)
    page = f"/coordinator/referrals/{reference}"
    when = (clock() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    fields = {
        "starts_at": when,
        "venue": "Parkside Community Centre",
        "volunteers": "1",
        "min_facilitators": "1",
    }
    response = submit(staff, page, f"{page}/conferences", fields, "conference-")
    assert response.status_code == 302
    shown = staff.get(page).text
    assert "conference scheduled" in shown and "Alex Volunteer" in shown and "invited" in shown
    deliver(app, clock)
    assert [m["To"] for m in twilio.messages] == ["+447700900201"]
    assert "Parkside" in twilio.messages[0]["Body"]
    past = {**fields, "starts_at": (clock() - timedelta(days=1)).strftime("%Y-%m-%dT10:00")}
    assert submit(staff, page, f"{page}/conferences", past, "conference-").status_code == 422


def test_messages_to_the_victim_respect_safe_times_and_stop(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    reference = self_referral(staff)
    page = f"/coordinator/referrals/{reference}"
    text = {"text": "Hello, this is Alex from the service. When is good to talk?"}
    clock.advance(days=5, hours=12)  # Saturday 22:30: outside "weekday days" and "weekends"
    assert log_in(staff).status_code == 302  # days later: the idle session has ended
    refused = submit(staff, page, f"{page}/message", text, "message-")
    assert refused.status_code == 409 and "outside the times" in refused.text
    sent = submit(staff, page, f"{page}/message", {**text, "outside_safe_times": "y"}, "message-")
    assert sent.status_code == 302
    before = len(twilio.messages)
    deliver(app, clock)
    assert twilio.messages[before:][0]["Body"] == text["text"]
    sms(staff, "STOP")
    stopped = submit(
        staff, page, f"{page}/message", {**text, "outside_safe_times": "y"}, "message-"
    )
    assert stopped.status_code == 409


def test_erasing_from_the_dashboard(staff: FlaskClient, app: Flask) -> None:
    reference = self_referral(staff)
    page = f"/coordinator/referrals/{reference}"
    assert (
        submit(staff, page, f"{page}/erase", {"confirm": "RJ-WRONG1"}, "erase-").status_code == 422
    )
    assert submit(staff, page, f"{page}/erase", {"confirm": reference}, "erase-").status_code == 302
    shown = staff.get(page).text
    assert "Sam Quayle" not in shown and "CF0123450224" not in shown
    assert "was erased" in shown
    with app.extensions["rj"].db.transaction() as session:
        pending = session.scalars(select(OutboxItem).where(OutboxItem.status == "pending")).all()
    assert all(item.kind == "email" for item in pending)


# -- volunteers and reports --------------------------------------------------------------------
def test_volunteers_are_added_edited_and_deactivated(staff: FlaskClient, app: Flask) -> None:
    add = {"name": "Bea Volunteer", "phone": "07700 900202", "active": "y"}
    assert (
        submit(staff, "/coordinator/volunteers", "/coordinator/volunteers", add, "new-").status_code
        == 302
    )
    assert (
        submit(staff, "/coordinator/volunteers", "/coordinator/volunteers", add, "new-").status_code
        == 409
    )
    bad = {**add, "phone": "12"}
    assert (
        submit(staff, "/coordinator/volunteers", "/coordinator/volunteers", bad, "new-").status_code
        == 422
    )
    edit = {"name": "Bea Facilitator", "phone": "07700 900212", "active": "y"}
    assert (
        submit(
            staff, "/coordinator/volunteers/1", "/coordinator/volunteers/1", edit, "edit-"
        ).status_code
        == 302
    )
    page = staff.get("/coordinator/volunteers").text
    assert "Bea Facilitator" in page and "Bea Volunteer" not in page
    token = csrf_token(staff, "/coordinator/volunteers")
    staff.post("/coordinator/volunteers/1/active", data={"csrf_token": token})
    assert "inactive" in staff.get("/coordinator/volunteers").text
    assert staff.get("/coordinator/volunteers/99").status_code == 404


def test_reports_show_the_figures_a_chart_and_csv(staff: FlaskClient, app: Flask) -> None:
    api_referral(app)
    self_referral(staff)
    page = staff.get("/coordinator/reports?start=2026-01-01&end=2026-12-31")
    assert page.status_code == 200
    assert '<td id="total">2</td>' in page.text
    assert "<svg" in page.text and "2026-11: 1 from the Victims&#39; Hub" in page.text
    csv = staff.get("/coordinator/reports.csv?start=2026-01-01&end=2026-12-31")
    assert csv.mimetype == "text/csv"
    assert "by_source,victims_hub,1" in csv.text and "by_month,2026-11 self,1" in csv.text
    assert staff.get("/coordinator/reports?start=nonsense").status_code == 400


# -- an urgent sign before any referral ---------------------------------------------------------
def test_the_urgent_email_links_to_a_page_showing_the_chat(staff: FlaskClient, app: Flask) -> None:
    sms(staff, "hi")
    sms(staff, "he's outside my house now with a knife")
    with app.extensions["rj"].db.transaction() as session:
        email = session.scalars(select(OutboxItem).where(OutboxItem.kind == "email")).one()
        link = re.search(r"http://127\.0\.0\.1:8000(/coordinator/\S+)", email.payload["text"])
    assert link, "no dashboard link in the urgent email"
    page = staff.get(link.group(1))
    assert page.status_code == 200
    assert "outside my house now with a knife" in page.text and "Urgent" in page.text
    queue = staff.get("/coordinator/").text
    assert "Urgent signs in chats with no referral yet" in queue and link.group(1) in queue
    assert staff.get("/coordinator/conversations/999").status_code == 404
    assert app.test_client().get(link.group(1)).status_code == 302  # not logged in


def test_a_chat_that_became_a_referral_redirects_to_it(staff: FlaskClient) -> None:
    reference = self_referral(staff)
    response = staff.get("/coordinator/conversations/1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/coordinator/referrals/{reference}")
