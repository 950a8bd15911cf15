"""Logging in to the dashboard with the Flask test client, CSRF tokens and all; referrals to see."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from case_store.models import Referral
from case_store.users import create_user
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH
from tests.twilio_helpers import sms

EMAIL = "coordinator@example.org"
PASSWORD = "a long passphrase for tests"
_TOKEN = re.compile(r'name="(?:[a-z]+-)?csrf_token"[^>]*? value="([^"]+)"')


def add_user(app: Flask, email: str = EMAIL, password: str = PASSWORD) -> None:
    """A co-ordinator login."""
    runtime = app.extensions["rj"]
    with runtime.db.transaction() as session:
        create_user(session, email, password, runtime.conversations.clock())


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token on the page at `path`."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    found = _TOKEN.search(page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD) -> TestResponse:
    """Log in through the form."""
    token = csrf_token(client, "/coordinator/login")
    return client.post(
        "/coordinator/login", data={"email": email, "password": password, "csrf_token": token}
    )


def submit(
    client: FlaskClient, page: str, action: str, fields: Mapping[str, object], prefix: str = ""
) -> TestResponse:
    """Post a form found on `page` to `action`, with the page's CSRF token."""
    token = csrf_token(client, page)
    data: dict[str, object] = {f"{prefix}{k}": v for k, v in fields.items()}
    data[f"{prefix}csrf_token"] = token
    return client.post(action, data=data)


def self_referral(client: FlaskClient, sender: str = "+447700900123") -> str:
    """A whole self-referral by SMS; its reference."""
    for text in HAPPY_PATH:
        sms(client, text, sender=sender)
    app: Flask = client.application
    with app.extensions["rj"].db.transaction() as session:
        return str(session.scalars(select(Referral.reference).order_by(Referral.id.desc())).first())


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker send what is due."""
    from webhooks.runtime import build_worker

    worker = build_worker(app.extensions["rj"])
    for _ in range(5):
        while worker.run_once():
            pass
        clock.advance(seconds=2)
