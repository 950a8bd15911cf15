"""The audit trail names a co-ordinator by their login email, however long a login's may be."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from case_store.models import EMAIL_LENGTH, AuditEntry, Referral, ReferralNote
from tests.dashboard_helpers import add_user, log_in, submit
from tests.helpers import HAPPY_PATH, converse, string_length
from tests.telegram_helpers import rt

# As long as a login's email may be (254 characters), in labels a mail server would accept.
LONGEST_EMAIL = "{}@{}.{}.{}.example.org".format("a" * 64, "b" * 63, "c" * 63, "d" * 49)
NOTE = "Rang twice, no answer; will try again on Friday."


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service with one self-referral and a co-ordinator whose email is the longest."""
    built = make_app()
    converse(rt(built).conversations, HAPPY_PATH)
    add_user(built, email=LONGEST_EMAIL)
    return built


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    """A client logged in as that co-ordinator (the login is audited too)."""
    client = app.test_client()
    assert log_in(client, email=LONGEST_EMAIL).status_code == 302
    return client


def the_reference(app: Flask) -> str:
    """The only referral's reference."""
    with rt(app).db.transaction() as s:
        return s.scalars(select(Referral.reference)).one()


def test_the_longest_login_email_there_can_be_is_254_characters() -> None:
    assert len(LONGEST_EMAIL) == EMAIL_LENGTH == 254


def test_every_dashboard_action_of_a_coordinator_with_the_longest_email_is_audited(
    staff: FlaskClient, app: Flask
) -> None:
    reference = the_reference(app)
    page = f"/coordinator/referrals/{reference}"
    assert staff.get(page).status_code == 200  # was a 500 on PostgreSQL: the actor too long
    moved = submit(staff, page, f"{page}/status", {"status": "contacted"}, "status-")
    assert moved.status_code == 302
    assert submit(staff, page, f"{page}/notes", {"note": NOTE}, "note-").status_code == 302
    actor = f"staff:{LONGEST_EMAIL}"
    with rt(app).db.transaction() as s:
        trail = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        note = s.scalars(select(ReferralNote)).one()
        assert [(e.actor, e.action, e.referral_reference) for e in trail] == [
            (actor, "login", None),
            (actor, "viewed", reference),
            (actor, "viewed", reference),  # the page the status form was read from
            (actor, "status", reference),
            (actor, "viewed", reference),
            (actor, "note", reference),
        ]
        assert (note.author, note.text) == (actor, NOTE)
    shown = staff.get(page).text
    assert NOTE in shown and LONGEST_EMAIL in shown  # the trail on the page names them


def test_the_columns_naming_staff_hold_the_longest_email_as_an_actor() -> None:
    """SQLite stores any length, so the models are checked too; PostgreSQL checks the rest."""
    longest_actor = len(f"staff:{LONGEST_EMAIL}")
    assert string_length(AuditEntry, "actor") >= longest_actor
    assert string_length(ReferralNote, "author") >= longest_actor
