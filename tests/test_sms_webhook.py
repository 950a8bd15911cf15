"""POST /webhooks/twilio/sms and /status, driven with Twilio's own signatures and TwiML."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from case_store.db import Database
from case_store.models import Conversation, Message, OutboxItem, Referral
from tests.api_helpers import json_body
from tests.helpers import HAPPY_PATH
from tests.twilio_helpers import AUTH_TOKEN, post_signed, signature, sms, twilio_env
from webhooks.runtime import Runtime


def replies(response: TestResponse) -> list[str]:
    """The <Message> texts of a TwiML answer."""
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service with the SMS channel on."""
    return make_app(**twilio_env())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def rt(app: Flask) -> Runtime:
    """The app's runtime."""
    runtime: Runtime = app.extensions["rj"]
    return runtime


def count_rows(app: Flask, model: type) -> int:
    """How many rows a table holds."""
    with rt(app).db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_whole_self_referral_by_sms(app: Flask, client: FlaskClient) -> None:
    answers = [sms(client, text) for text in HAPPY_PATH]
    assert all(r.status_code == 200 and r.mimetype == "text/xml" for r in answers)
    assert replies(answers[0])[1].startswith("First, are you safe right now?")
    assert "Your reference is RJ-000001" in replies(answers[-1])[0]
    with rt(app).db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert (referral.source, referral.channel, referral.status) == ("self", "sms", "new")


def test_the_coordinator_email_is_queued_without_personal_data(
    app: Flask, client: FlaskClient
) -> None:
    for text in HAPPY_PATH:
        sms(client, text)
    with rt(app).db.transaction() as s:
        emails = s.scalars(select(OutboxItem).where(OutboxItem.kind == "email")).all()
        assert len(emails) == 1
        payload = emails[0].payload
    assert "RJ-000001" in payload["subject"] and "RJ-000001" in payload["text"]
    for personal in ("Sam", "7700900123", "CF0123450224", "brother"):
        assert personal not in payload["text"] + payload["html"] + payload["subject"]


def test_a_retried_webhook_never_acts_twice(app: Flask, client: FlaskClient) -> None:
    sms(client, "hi", sid="SM" + "a" * 32)
    first = sms(client, "yes", sid="SM" + "b" * 32)
    again = sms(client, "yes", sid="SM" + "b" * 32)
    assert replies(first) and replies(again) == []
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Conversation)).one().step == "safe_here"
    assert count_rows(app, Message) == 2 + 3


def test_missing_or_forged_signature_is_refused_and_nothing_stored(
    app: Flask, client: FlaskClient
) -> None:
    params = {"MessageSid": "SM" + "c" * 32, "From": "+447700900123", "Body": "hi"}
    assert client.post("/webhooks/twilio/sms", data=params).status_code == 403
    forged = {"X-Twilio-Signature": signature("/webhooks/twilio/sms", params, "wrong-token")}
    assert client.post("/webhooks/twilio/sms", data=params, headers=forged).status_code == 403
    tampered = {"X-Twilio-Signature": signature("/webhooks/twilio/sms", params)}
    changed = {**params, "Body": "something else"}
    assert client.post("/webhooks/twilio/sms", data=changed, headers=tampered).status_code == 403
    assert count_rows(app, Message) == 0


def test_sms_is_off_without_twilio_settings(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    response = client.post("/webhooks/twilio/sms", data={"Body": "hi"})
    assert response.status_code == 503
    assert json_body(response)["error"]["code"] == "service_unavailable"


def test_an_oversized_body_is_413(client: FlaskClient) -> None:
    response = client.post("/webhooks/twilio/sms", data={"Body": "x" * 70_000})
    assert response.status_code == 413


def test_malformed_form_data_is_400(app: Flask, client: FlaskClient) -> None:
    no_sid = {"From": "+447700900123", "Body": "hi"}
    assert post_signed(client, "/webhooks/twilio/sms", no_sid).status_code == 400
    as_json = client.post(
        "/webhooks/twilio/sms", json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"}
    )
    assert as_json.status_code == 400
    assert count_rows(app, Message) == 0


@pytest.mark.parametrize("text", ["a" * 1600, "\U0001f600" * 200, "\u202eevil\u202c", "<b>&amp;"])
def test_long_or_odd_messages_get_a_normal_answer(client: FlaskClient, text: str) -> None:
    response = sms(client, text)
    assert response.status_code == 200
    assert replies(response)[0].startswith("Hello")


def test_database_down_gives_503_so_twilio_retries(app: Flask, client: FlaskClient) -> None:
    rt(app).conversations.db = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    response = sms(client, "hi")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert count_rows(app, Message) == 0


def test_stop_then_nothing_until_start(app: Flask, client: FlaskClient) -> None:
    sms(client, "hi")
    assert "won't get any more messages" in replies(sms(client, "STOP"))[0]
    assert replies(sms(client, "hello?")) == []
    assert "support" in replies(sms(client, "HELP"))[0].lower()
    restarted = replies(sms(client, "START"))
    assert restarted[0] == "Welcome back." and restarted[1].startswith("First, are you safe")


def _outbound(app: Flask, sid: str) -> None:
    """An outbound message the provider knows by `sid`."""
    with rt(app).db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        s.add(
            Message(
                conversation_id=conversation.id,
                direction="out",
                channel="sms",
                channel_message_id=sid,
                body="x",
                status="queued",
                created_at=rt(app).conversations.clock(),
                updated_at=rt(app).conversations.clock(),
            )
        )


def _status(client: FlaskClient, sid: str, status: str, error: str | None = None) -> int:
    """Post a signed status callback."""
    params = {"MessageSid": sid, "MessageStatus": status}
    if error:
        params["ErrorCode"] = error
    return post_signed(client, "/webhooks/twilio/status", params).status_code


def _message_status(app: Flask, sid: str) -> str:
    """The stored status of an outbound message."""
    with rt(app).db.transaction() as s:
        return s.scalars(select(Message.status).where(Message.channel_message_id == sid)).one()


def test_status_callbacks_only_move_forward(app: Flask, client: FlaskClient) -> None:
    sms(client, "hi")
    _outbound(app, "SM" + "d" * 32)
    assert _status(client, "SM" + "d" * 32, "sent") == 204
    assert _status(client, "SM" + "d" * 32, "delivered") == 204
    assert _status(client, "SM" + "d" * 32, "sending") == 204
    assert _message_status(app, "SM" + "d" * 32) == "delivered"


def test_opted_out_error_marks_the_person_opted_out(app: Flask, client: FlaskClient) -> None:
    sms(client, "hi")
    _outbound(app, "SM" + "e" * 32)
    assert _status(client, "SM" + "e" * 32, "failed", "21610") == 204
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Conversation)).one().opted_out is True


def test_status_callback_needs_a_signature(client: FlaskClient) -> None:
    response = client.post(
        "/webhooks/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "sent"}
    )
    assert response.status_code == 403


def test_healthz(client: FlaskClient, app: Flask) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    rt(app).db = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert client.get("/healthz").status_code == 503


def test_auth_token_is_not_in_any_answer(client: FlaskClient) -> None:
    assert AUTH_TOKEN.encode() not in sms(client, "hi").data
