"""/try/: the simulator page talks to the real flow (channel `web`), and is off in production."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from case_store.models import Conversation, Message, Referral
from tests.api_helpers import json_body
from tests.helpers import HAPPY_PATH

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
REFERENCE = re.compile(r"RJ-[0-9A-Z]{6}")
# As by SMS, except that the web has no number of its own to offer: the person types one.
_ASKS_NUMBER = HAPPY_PATH.index("Sam Quayle") + 2
WEB_PATH = [*HAPPY_PATH[:_ASKS_NUMBER], "07700 900123", *HAPPY_PATH[_ASKS_NUMBER + 1 :]]


class Visitor:
    """A browser on /try/: its cookie session and the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        page = client.get("/try/")
        assert page.status_code == 200
        found = _META.search(page.text)
        assert found, "no CSRF token on /try/"
        self.token = found.group(1)

    def post(self, path: str, body: Any) -> TestResponse:
        """POST JSON with the CSRF header, as try.js does."""
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.token})

    def say(self, view: str, text: str, **extra: Any) -> list[dict[str, Any]]:
        """Send one message; the replies."""
        response = self.post(
            "/try/send", {"view": view, "text": text, "id": uuid.uuid4().hex, **extra}
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = json_body(response)["replies"]
        return replies


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service on its defaults: no SMS or Telegram accounts needed for /try/."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client (it keeps cookies)."""
    return app.test_client()


@pytest.fixture
def visitor(client: FlaskClient) -> Visitor:
    """A new visitor on /try/."""
    return Visitor(client)


def count(app: Flask, model: type) -> int:
    """Rows of `model` in the app's database."""
    with app.extensions["rj"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_page_has_both_views_and_a_quick_exit(client: FlaskClient) -> None:
    page = client.get("/try/")
    assert page.status_code == 200
    assert 'id="quick-exit"' in page.text and "Esc" in page.text
    assert 'data-exit="https://www.bbc.co.uk/weather"' in page.text
    assert 'data-view="sms"' in page.text and 'data-view="telegram"' in page.text
    assert client.get("/try/static/try.js").status_code == 200


def test_a_whole_self_referral_by_text_ends_with_a_reference(visitor: Visitor, app: Flask) -> None:
    replies: list[dict[str, Any]] = []
    for text in WEB_PATH:
        replies = visitor.say("sms", text)
    last = " ".join(r["text"] for r in replies)
    found = REFERENCE.search(last)
    assert found, last
    with app.extensions["rj"].db.transaction() as session:
        referral = session.scalars(select(Referral)).one()
        assert referral.reference == found.group(0)
        assert referral.channel == "web" and referral.source == "self"


def test_the_button_view_offers_buttons_and_a_press_answers(visitor: Visitor) -> None:
    first = visitor.say("telegram", "hi")
    asked = next(r for r in first if r["buttons"])
    assert "\n1 " not in asked["text"]  # choices are buttons here, not numbered lines
    label, value = asked["buttons"][0]
    assert label and value
    after = visitor.say("telegram", value, step=asked["step"])
    assert after and after[0]["text"] != asked["text"]


def test_an_old_button_is_answered_kindly_and_changes_nothing(visitor: Visitor, app: Flask) -> None:
    first = visitor.say("telegram", "hi")
    asked = next(r for r in first if r["buttons"])
    visitor.say("telegram", asked["buttons"][0][1], step=asked["step"])
    with app.extensions["rj"].db.transaction() as session:
        step = session.scalars(select(Conversation.step)).one()
    late = visitor.say("telegram", asked["buttons"][-1][1], step=asked["step"])
    assert [r["text"] for r in late] == [
        "That question has already been answered. Please answer the latest one."
    ]
    with app.extensions["rj"].db.transaction() as session:
        assert session.scalars(select(Conversation.step)).one() == step


def test_a_repeated_message_id_is_handled_once(visitor: Visitor, app: Flask) -> None:
    body = {"view": "sms", "text": "hi", "id": "repeat-0001"}
    first = visitor.post("/try/send", body)
    stored = count(app, Message)
    again = visitor.post("/try/send", body)
    assert json_body(first)["duplicate"] is False and json_body(again)["duplicate"] is True
    assert count(app, Message) == stored


def test_each_view_and_each_visitor_is_a_separate_person(app: Flask) -> None:
    one, two = Visitor(app.test_client()), Visitor(app.test_client())
    one.say("sms", "hi")
    one.say("telegram", "hi")
    two.say("sms", "hi")
    assert count(app, Conversation) == 3
    assert one.post("/try/reset", {}).status_code == 200
    one.say("sms", "hi")
    assert count(app, Conversation) == 4


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        ["a", "list"],
        {"view": "whatsapp", "text": "hi", "id": "abcdefgh1"},
        {"view": "sms", "text": "   ", "id": "abcdefgh2"},
        {"view": "sms", "text": "x" * 1001, "id": "abcdefgh3"},
        {"view": "sms", "text": "hi", "id": "short"},
        {"view": "sms", "text": "hi", "id": "has spaces in it"},
        {"view": "sms", "text": 5, "id": "abcdefgh4"},
        {"view": "sms", "text": "hi", "id": "abcdefgh5", "step": ["x"]},
    ],
)
def test_bad_bodies_are_400_and_store_nothing(visitor: Visitor, app: Flask, body: Any) -> None:
    if isinstance(body, str):
        response = visitor.client.post(
            "/try/send", data=body, headers={"X-CSRFToken": visitor.token}
        )
    else:
        response = visitor.post("/try/send", body)
    assert response.status_code == 400
    assert count(app, Message) == 0 and count(app, Conversation) == 0


def test_a_send_without_the_csrf_token_is_400(client: FlaskClient, app: Flask) -> None:
    client.get("/try/")
    response = client.post("/try/send", json={"view": "sms", "text": "hi", "id": "abcdefgh9"})
    assert response.status_code == 400
    assert count(app, Message) == 0


def test_off_in_production(make_app: Callable[..., Flask]) -> None:
    app = make_app(RJ_ENV="production", RJ_PUBLIC_BASE_URL="https://rj.example.org")
    client = app.test_client()
    assert client.get("/try/").status_code == 404
    assert client.post("/try/send", json={}).status_code in {400, 404}
    assert count(app, Message) == 0
