"""Fixtures: the service with SMS on, a co-ordinator logged in, an API token with every scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from case_store.tokens import SCOPES
from tests.api_helpers import make_token
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


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """An API token with every scope."""
    return make_token(app.extensions["rj"], *SCOPES, name="Co-ordinator")
