"""Fixtures: the service with SMS on, a co-ordinator logged in, an API token with every scope."""

from __future__ import annotations

import pytest
from flask import Flask

from case_store.tokens import SCOPES
from tests.api_helpers import make_token
from tests.staff_fixtures import app, client, staff, twilio

__all__ = ["app", "client", "headers", "staff", "twilio"]


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """An API token with every scope."""
    return make_token(app.extensions["rj"], *SCOPES, name="Co-ordinator")
