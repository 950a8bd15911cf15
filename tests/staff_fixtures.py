"""Fixtures shared by the dashboard and conference tests: the service with SMS on (a stub
Twilio API) and a co-ordinator logged in. A conftest imports the ones it uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.dashboard_helpers import add_user, log_in
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, twilio_env


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """The stub Twilio REST API."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


@pytest.fixture
def app(make_app: Callable[..., Flask], twilio: TwilioStub) -> Flask:
    """The service with SMS on, and one co-ordinator login."""
    built = make_app(**twilio_env(twilio.base_url))
    add_user(built)
    return built


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client (it keeps cookies)."""
    return app.test_client()


@pytest.fixture
def staff(client: FlaskClient) -> FlaskClient:
    """A client logged in as the co-ordinator."""
    assert log_in(client).status_code == 302
    return client
