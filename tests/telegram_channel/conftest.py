"""Fixtures for the Telegram tests: the stub Bot API and the service with Telegram on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import TOKEN, telegram_env


@pytest.fixture
def stub() -> Iterator[TelegramStub]:
    """The stub Bot API."""
    with TelegramStub(TOKEN) as server:
        yield server


@pytest.fixture
def app(make_app: Callable[..., Flask], stub: TelegramStub) -> Flask:
    """The service with Telegram on."""
    return make_app(**telegram_env(stub.base_url))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()
