"""Rate limits: a flooding sender is slowed kindly, nothing is lost, nobody else notices."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import select

from case_store.models import Conversation, Message, OutboxItem
from tests.api_helpers import make_token
from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import SECRET, TOKEN, telegram_env, text_update
from tests.twilio_helpers import sms, twilio_env
from webhooks.config import load_settings
from webhooks.runtime import Runtime

SLOW_DOWN = "You're sending messages faster than we can read them"
FLOODER, OTHER = "+447700900301", "+447700900302"


def replies(response: Any) -> list[str]:
    """The <Message> texts of a TwiML answer."""
    return [m.text or "" for m in ElementTree.fromstring(response.data).iter("Message")]


def rt(app: Flask) -> Runtime:
    """The app's runtime."""
    runtime: Runtime = app.extensions["rj"]
    return runtime


def statuses(app: Flask) -> list[str]:
    """The status of every inbound message, oldest first."""
    with rt(app).db.transaction() as s:
        query = select(Message.status).where(Message.direction == "in").order_by(Message.id)
        return list(s.scalars(query))


@pytest.fixture
def stub() -> Iterator[TelegramStub]:
    """A stub Bot API."""
    with TelegramStub(TOKEN) as running:
        yield running


@pytest.fixture
def sms_app(make_app: Callable[..., Flask]) -> Flask:
    """SMS on, three messages a minute per sender."""
    return make_app(**twilio_env(), RJ_RATE_LIMIT_SENDER="3 per minute")


def test_a_flood_is_kept_and_slowed_kindly_once(sms_app: Flask) -> None:
    client = sms_app.test_client()
    for text in ("hi", "yes", "yes"):
        assert replies(sms(client, text, FLOODER))
    over = [sms(client, "yes", FLOODER) for _ in range(3)]
    assert [r.status_code for r in over] == [200, 200, 200]  # Twilio never retries a 429
    assert replies(over[0])[0].startswith(SLOW_DOWN)
    assert replies(over[1]) == replies(over[2]) == []
    assert statuses(sms_app) == ["received"] * 3 + ["throttled"] * 3
    with rt(sms_app).db.transaction() as s:
        assert s.scalars(select(Conversation.step)).one() == "notice"  # held, not stepped


def test_another_sender_is_unaffected(sms_app: Flask) -> None:
    client = sms_app.test_client()
    for _ in range(6):
        sms(client, "hi", FLOODER)
    assert replies(sms(client, "hi", OTHER))[0].startswith("Hello")


def test_stop_and_danger_are_never_held(sms_app: Flask) -> None:
    client = sms_app.test_client()
    for _ in range(5):
        sms(client, "hi", FLOODER)
    assert "999" in replies(sms(client, "he's outside my house now with a knife", FLOODER))[0]
    assert replies(sms(client, "STOP", FLOODER))[0].startswith("You won't get any more")
    assert replies(sms(client, "hi", FLOODER)) == []  # held, and no notice after STOP


def test_forged_requests_do_not_spend_a_senders_budget(sms_app: Flask) -> None:
    client = sms_app.test_client()
    form = {"MessageSid": "SM" + "f" * 32, "From": FLOODER, "To": "+447700900000", "Body": "x"}
    for _ in range(5):
        forged = client.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": "x"})
        assert forged.status_code == 403
    assert replies(sms(client, "hi", FLOODER))[0].startswith("Hello")


def test_a_twilio_retry_of_a_held_message_changes_nothing(sms_app: Flask) -> None:
    client = sms_app.test_client()
    for _ in range(4):
        sms(client, "hi", FLOODER)
    sms(client, "yes", FLOODER, sid="SM" + "a" * 32)
    sms(client, "yes", FLOODER, sid="SM" + "a" * 32)
    assert statuses(sms_app).count("throttled") == 2


def test_telegram_floods_are_held_and_answered_200(
    make_app: Callable[..., Flask], stub: TelegramStub
) -> None:
    app = make_app(**telegram_env(stub.base_url), RJ_RATE_LIMIT_SENDER="2 per minute")
    client = app.test_client()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    answers = [
        client.post("/webhooks/telegram", json=text_update("hi", chat=1), headers=headers)
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.get_json().get("throttled") for a in answers] == [None, None, True, True]
    other = client.post("/webhooks/telegram", json=text_update("hi", chat=2), headers=headers)
    assert other.get_json() == {"ok": True}
    with rt(app).db.transaction() as s:
        notices = [i for i in s.scalars(select(OutboxItem)) if SLOW_DOWN in str(i.payload)]
    assert len(notices) == 1 and notices[0].recipient == "1"
    assert statuses(app).count("throttled") == 2


def test_the_api_is_limited_per_token(make_app: Callable[..., Flask]) -> None:
    app = make_app(RJ_RATE_LIMIT_API="2 per minute")
    client = app.test_client()
    first = make_token(rt(app), "referrals:read")
    second = make_token(rt(app), "referrals:read", name="Police")
    for _ in range(2):
        assert client.get("/api/v1/referrals", headers=first).status_code == 200
    refused = client.get("/api/v1/stats", headers=first)  # one budget across the API
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/v1/referrals", headers=second).status_code == 200


def test_a_bad_rule_is_refused_at_start(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        load_settings({**environ, "RJ_RATE_LIMIT_SENDER": "lots"})


def _redis_or_skip(url: str) -> Any:
    """A Redis client; without a server, a skip on a developer's machine, a failure in CI."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI"):  # CI's machine runs Redis: its absence is a failure there
            raise
        pytest.skip(f"no Redis server at {url}")
    return client


def test_redis_storage_shares_budgets_and_holds_no_number(
    make_app: Callable[..., Flask],
) -> None:
    url = "redis://127.0.0.1:6379/15"
    redis = _redis_or_skip(url)
    env = {
        **twilio_env(),
        "RJ_RATE_LIMIT_SENDER": "2 per minute",
        "RJ_REDIS_URL": url,
        "RJ_SECRET_KEY": secrets.token_urlsafe(24),
    }  # fresh keys: no earlier run's counts
    web1, web2 = make_app(**env).test_client(), make_app(**env).test_client()
    assert replies(sms(web1, "hi", FLOODER))
    assert replies(sms(web2, "yes", FLOODER))
    assert replies(sms(web1, "yes", FLOODER))[0].startswith(SLOW_DOWN)  # shared across processes
    stored = b" ".join(redis.keys("*"))
    assert b"7700900301" not in stored and b"447700900301" not in stored


def test_an_unreachable_redis_falls_back_to_memory(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        **twilio_env(), RJ_RATE_LIMIT_SENDER="1 per minute", RJ_REDIS_URL="redis://127.0.0.1:1/0"
    )
    client = app.test_client()
    assert replies(sms(client, "hi", FLOODER))[0].startswith("Hello")
    assert replies(sms(client, "yes", FLOODER))[0].startswith(SLOW_DOWN)
