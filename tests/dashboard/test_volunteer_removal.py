"""Removing a volunteer from the dashboard: name and number erased, never invited again."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from case_store.crypto import current_vault
from case_store.models import AuditEntry, Invitation, OutboxItem, Volunteer
from case_store.tokens import SCOPES
from case_store.volunteers import phone_hash
from tests.api_helpers import agency_referral, json_body, make_token
from tests.conftest import FrozenClock
from tests.dashboard_helpers import csrf_token, submit
from tests.privacy_helpers import decrypted_dump, personal_in
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import sms

NAME, MOBILE, E164 = "Alex Volunteer", "07700 900201", "+447700900201"
VOLUNTEERS = "/coordinator/volunteers"


def add_volunteer(staff: FlaskClient, name: str = NAME, phone: str = MOBILE) -> int:
    """Add an active volunteer through the page; their id."""
    fields = {"name": name, "phone": phone, "active": "y"}
    assert submit(staff, VOLUNTEERS, VOLUNTEERS, fields, "new-").status_code == 302
    app: Flask = staff.application
    with app.extensions["rj"].db.transaction() as session:
        return int(session.scalars(select(Volunteer.id).order_by(Volunteer.id.desc())).first())


def referral_page(app: Flask) -> str:
    """The dashboard page of a new referral from the Victims' Hub."""
    headers = make_token(app.extensions["rj"], *SCOPES)
    response = app.test_client().post("/api/v1/referrals", json=agency_referral(), headers=headers)
    assert response.status_code == 201
    return f"/coordinator/referrals/{json_body(response)['reference']}"


def schedule(staff: FlaskClient, page: str, clock: FrozenClock, *volunteer_ids: int) -> int:
    """Schedule a conference in three days for these volunteers; the response status."""
    fields = {
        "starts_at": (clock() + timedelta(days=3)).strftime("%Y-%m-%dT10:00"),
        "venue": "Parkside Community Centre",
        "volunteers": [str(i) for i in volunteer_ids],
        "min_facilitators": "1",
    }
    return submit(staff, page, f"{page}/conferences", fields, "conference-").status_code


def remove(staff: FlaskClient, volunteer_id: int) -> int:
    """Press Remove on the confirmation page; the response status."""
    page = f"{VOLUNTEERS}/{volunteer_id}/remove"
    return submit(staff, page, page, {}).status_code


def raw_volunteer(app: Flask, volunteer_id: int) -> dict[str, str]:
    """The volunteer's row as stored: encrypted columns still encrypted."""
    query = text("SELECT name, phone, phone_hash FROM volunteers WHERE id = :id")
    with app.extensions["rj"].db.engine.connect() as connection:
        return dict(connection.execute(query, {"id": volunteer_id}).mappings().one())


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker send what is due."""
    from webhooks.runtime import build_worker

    worker = build_worker(app.extensions["rj"])
    for _ in range(3):
        while worker.run_once():
            pass
        clock.advance(seconds=2)


def test_removal_erases_the_name_and_number_and_keeps_the_row(
    staff: FlaskClient, app: Flask
) -> None:
    volunteer = add_volunteer(staff)
    asking = staff.get(f"{VOLUNTEERS}/{volunteer}/remove")
    assert asking.status_code == 200 and f"Remove {NAME}?" in asking.text
    response = staff.get(f"{VOLUNTEERS}/{volunteer}")  # still listed until the button is pressed
    assert response.status_code == 200

    assert remove(staff, volunteer) == 302
    assert "Volunteer removed: their name and number are erased." in staff.get(VOLUNTEERS).text

    stored = raw_volunteer(app, volunteer)
    vault = current_vault()
    assert (vault.decrypt(stored["name"]), vault.decrypt(stored["phone"])) == ("", "")
    assert stored["phone_hash"] == f"removed:{volunteer}"
    assert personal_in(decrypted_dump(app.extensions["rj"].db), (NAME, "7700900201")) == []


def test_a_pending_invitation_sms_is_cancelled(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    volunteer = add_volunteer(staff)
    page = referral_page(app)
    assert schedule(staff, page, clock, volunteer) == 302

    assert remove(staff, volunteer) == 302
    deliver(app, clock)

    assert twilio.messages == []
    with app.extensions["rj"].db.transaction() as session:
        invite = session.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")).one()
        assert (invite.status, invite.recipient, invite.payload) == ("cancelled", "", {})
        invitation = session.scalars(select(Invitation)).one()
        assert invitation.status == "removed"
    shown = staff.get(page).text
    assert f"Removed volunteer #{volunteer}" in shown and NAME not in shown


def test_a_removed_volunteer_is_never_offered_or_invited_again(
    staff: FlaskClient, app: Flask, clock: FrozenClock
) -> None:
    volunteer, kept = add_volunteer(staff), add_volunteer(staff, "Bea Volunteer", "07700 900202")
    assert remove(staff, volunteer) == 302
    page = referral_page(app)

    offered = staff.get(page).text
    assert f'value="{kept}"' in offered and f'value="{volunteer}"' not in offered
    listed = app.test_client().get(
        "/api/v1/volunteers", headers=make_token(app.extensions["rj"], *SCOPES)
    )
    assert [v["id"] for v in json_body(listed)["items"]] == [kept]
    assert schedule(staff, page, clock, volunteer) == 422
    assert NAME not in staff.get(VOLUNTEERS).text
    assert staff.get(f"{VOLUNTEERS}/{volunteer}").status_code == 404
    token = csrf_token(staff, VOLUNTEERS)
    reactivate = staff.post(f"{VOLUNTEERS}/{volunteer}/active", data={"csrf_token": token})
    assert reactivate.status_code == 404
    assert (
        staff.post(f"{VOLUNTEERS}/{volunteer}/remove", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_conference_moved_after_removal_does_not_text_them(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    removed, kept = add_volunteer(staff), add_volunteer(staff, "Bea Volunteer", "07700 900202")
    assert schedule(staff, referral_page(app), clock, removed, kept) == 302
    assert remove(staff, removed) == 302
    headers = make_token(app.extensions["rj"], *SCOPES)

    moved = app.test_client().patch(
        "/api/v1/conferences/1", json={"venue": "Town Hall"}, headers=headers
    )
    assert moved.status_code == 200
    statuses = {i["volunteer"]: i["status"] for i in json_body(moved)["invitations"]}
    assert statuses == {removed: "removed", kept: "invited"}
    deliver(app, clock)

    assert [m["To"] for m in twilio.messages] == ["+447700900202", "+447700900202"]


def test_the_audit_entry_names_no_one(staff: FlaskClient, app: Flask) -> None:
    volunteer = add_volunteer(staff)
    assert remove(staff, volunteer) == 302

    with app.extensions["rj"].db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "volunteer_removed")
        ).one()
        recorded = f"{entry.actor} {entry.detail} {entry.referral_reference}"
    assert entry.detail == f"volunteer #{volunteer}"
    assert personal_in(recorded, (NAME, "7700900201", "900201")) == []


def test_the_same_number_can_be_added_again(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    first = add_volunteer(staff)
    assert remove(staff, first) == 302

    again = add_volunteer(staff, "Alex Returning")
    assert again != first
    assert "Alex Returning" in staff.get(VOLUNTEERS).text
    assert schedule(staff, referral_page(app), clock, again) == 302
    deliver(app, clock)
    assert [m["To"] for m in twilio.messages] == [E164]


def test_a_stop_sent_before_removal_still_holds_when_the_number_comes_back(
    staff: FlaskClient, app: Flask, twilio: TwilioStub, clock: FrozenClock
) -> None:
    first = add_volunteer(staff)
    sms(staff, "STOP", sender=E164)
    assert remove(staff, first) == 302

    again = add_volunteer(staff)
    assert schedule(staff, referral_page(app), clock, again) == 302
    deliver(app, clock)

    assert twilio.messages == []


def test_a_get_or_a_post_without_csrf_changes_nothing(staff: FlaskClient, app: Flask) -> None:
    volunteer = add_volunteer(staff)
    before = raw_volunteer(app, volunteer)

    assert staff.get(f"{VOLUNTEERS}/{volunteer}/remove").status_code == 200
    assert staff.post(f"{VOLUNTEERS}/{volunteer}/remove").status_code == 400
    forged = staff.post(f"{VOLUNTEERS}/{volunteer}/remove", data={"csrf_token": "forged"})
    assert forged.status_code == 400

    assert raw_volunteer(app, volunteer) == before
    assert NAME in staff.get(VOLUNTEERS).text
    with app.extensions["rj"].db.transaction() as session:
        assert session.get_one(Volunteer, volunteer).phone_hash == phone_hash(E164)
        assert (
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "volunteer_removed")
            ).all()
            == []
        )
