"""Logins changed while their sessions are live: disabled, enabled again, a new password."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from case_store.users import set_active, set_password
from tests.dashboard_helpers import EMAIL, add_user, log_in

QUEUE = "/coordinator/"
NEW_PASSWORD = "a brand new passphrase"


def disable(app: Flask, email: str = EMAIL, active: bool = False) -> None:
    """Disable (or enable) a login, as `rj-frontdoor user disable` does."""
    with app.extensions["rj"].db.transaction() as session:
        set_active(session, email, active)


def reset_password(app: Flask, email: str = EMAIL, password: str = NEW_PASSWORD) -> None:
    """Give a login a new password, as `rj-frontdoor user password` does."""
    with app.extensions["rj"].db.transaction() as session:
        set_password(session, email, password)


def sent_to_login(client: FlaskClient) -> bool:
    """The next request for the queue is sent to the login page."""
    response = client.get(QUEUE)
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/coordinator/login"
    )


def test_a_disabled_login_loses_its_live_session_at_the_next_request(
    staff: FlaskClient, app: Flask
) -> None:
    assert staff.get(QUEUE).status_code == 200
    disable(app)
    assert sent_to_login(staff)
    refused = log_in(staff)
    assert refused.status_code == 401 and "do not match a login" in refused.text


def test_an_enabled_login_logs_in_again(staff: FlaskClient, app: Flask) -> None:
    disable(app)
    assert sent_to_login(staff)
    disable(app, active=True)
    assert log_in(staff).status_code == 302
    assert staff.get(QUEUE).status_code == 200


def test_a_new_password_logs_out_the_session_on_the_old_one(staff: FlaskClient, app: Flask) -> None:
    assert staff.get(QUEUE).status_code == 200
    reset_password(app)
    assert sent_to_login(staff)
    assert log_in(staff).status_code == 401
    assert log_in(staff, password=NEW_PASSWORD).status_code == 302
    assert staff.get(QUEUE).status_code == 200


def test_a_new_password_leaves_other_logins_signed_in(staff: FlaskClient, app: Flask) -> None:
    add_user(app, "alex@example.org")
    alex = app.test_client()
    assert log_in(alex, "alex@example.org").status_code == 302
    reset_password(app)
    assert sent_to_login(staff)
    assert alex.get(QUEUE).status_code == 200


def test_a_session_naming_the_user_without_the_password_key_is_refused(
    staff: FlaskClient,
) -> None:
    assert staff.get(QUEUE).status_code == 200
    with staff.session_transaction() as session:
        user_id, _, key = session["_user_id"].partition(":")
        assert user_id.isdigit() and len(key) == 32
        session["_user_id"] = user_id  # how sessions looked before they carried the key
    assert sent_to_login(staff)
