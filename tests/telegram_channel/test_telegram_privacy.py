"""No Telegram chat id in plain text anywhere in the database, and every feature still works."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from case_store.models import Message, OutboxItem
from case_store.telegram_ids import callback_dedupe_key, chat_tag, sent_message_key
from tests.conftest import FrozenClock
from tests.privacy_helpers import columns_holding, personal_in, raw_text_values
from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import (
    CHAT,
    SECRET,
    TELEGRAM_PATH,
    button_update,
    converse,
    deliver,
    last_bot_message,
    post,
    rt,
    sticker,
    telegram_env,
    text_update,
)

CLEAR = "Clear this chat"
CLEARED = "Done. We have cleared this chat."
HASHED_SENT = re.compile(r"^c[0-9a-f]{32}:m\d+$")
TYPED = re.compile(r"^u\d+(?::m\d+)?$")


def typed_ids(updates: list[dict[str, Any]]) -> set[int]:
    """The ids of the messages the person typed."""
    return {u["message"]["message_id"] for u in updates if "message" in u}


def deleted_ids(stub: TelegramStub) -> set[int]:
    """Every message id the bot asked Telegram to delete."""
    return {int(i) for call in stub.calls("deleteMessages") for i in call["message_ids"]}


def press_clear(
    app: Flask,
    client: FlaskClient,
    stub: TelegramStub,
    clock: FrozenClock,
    offer: dict[str, Any] | None = None,
) -> None:
    """Tap "Clear this chat" on the offer (the last message by default); let the worker act."""
    post(client, button_update(offer or last_bot_message(stub), CLEAR))
    deliver(app, clock)


def test_after_a_whole_conversation_and_clearing_no_column_holds_the_chat_id(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    updates = converse(app, client, stub, clock, TELEGRAM_PATH)
    offer = last_bot_message(stub)
    post(client, updates[3])  # Telegram redelivers a button press ...
    post(client, updates[-2])  # ... and a typed message
    post(client, sticker())
    deliver(app, clock)
    press_clear(app, client, stub, clock, offer)
    after_delete = converse(app, client, stub, clock, ["DELETE"])
    post(client, button_update(last_bot_message(stub), "Yes, delete it"))
    deliver(app, clock)
    press_clear(app, client, stub, clock)

    assert [m["text"] for m in stub.sent].count(CLEARED) == 2  # both clears worked
    assert typed_ids(after_delete) <= deleted_ids(stub)
    stored = raw_text_values(rt(app).db)
    assert columns_holding(stored, CHAT) == {}
    assert personal_in("\n".join(v for values in stored.values() for v in values)) == []
    # What names the chat is the keyed hash, the same for every message in it.
    ours = [key for key in stored["messages.channel_message_id"] if not TYPED.match(key)]
    assert ours and all(HASHED_SENT.match(key) for key in ours)
    assert {key.split(":")[0] for key in ours} == {chat_tag(CHAT)}


def test_the_features_that_needed_the_chat_id_still_work(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    updates = converse(app, client, stub, clock, TELEGRAM_PATH[:6])
    presses = [u for u in updates if "callback_query" in u]
    edits = stub.calls("editMessageText")
    assert presses and len(edits) == len(presses)  # the pressed button is shown on the question
    assert {int(e["chat_id"]) for e in edits} == {CHAT}
    for press in presses:  # a redelivered press is answered and shown once
        post(client, press)
    deliver(app, clock)
    assert len(stub.calls("editMessageText")) == len(presses)
    answered = [c["callback_query_id"] for c in stub.calls("answerCallbackQuery")]
    assert sorted(answered) == sorted(p["callback_query"]["id"] for p in presses)
    with rt(app).db.transaction() as s:
        sent = set(s.scalars(select(Message.channel_message_id).where(Message.direction == "out")))
        keys = set(s.scalars(select(OutboxItem.dedupe_key)))
    assert {sent_message_key(CHAT, m["message_id"]) for m in stub.sent} <= sent
    for press in presses:
        message_id = press["callback_query"]["message"]["message_id"]
        assert callback_dedupe_key(press["callback_query"]["id"]) in keys
        assert f"tg:edit:{sent_message_key(CHAT, message_id)}" in keys

    converse(app, client, stub, clock, TELEGRAM_PATH[6:])
    offer = last_bot_message(stub)
    press_clear(app, client, stub, clock)
    assert {m["message_id"] for m in stub.sent[:-1]} <= deleted_ids(stub)  # all but the last
    assert all(int(call["chat_id"]) == CHAT for call in stub.calls("deleteMessages"))
    assert last_bot_message(stub)["text"] == CLEARED
    with rt(app).db.transaction() as s:
        keys = set(s.scalars(select(OutboxItem.dedupe_key)))
    assert f"clear:{sent_message_key(CHAT, offer['message_id'])}" in keys


def test_two_chats_with_the_same_message_ids_stay_apart(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    other = CHAT + 1
    for chat in (CHAT, other):
        post(client, text_update("/start", chat))
        deliver(app, clock)
    assert sent_message_key(CHAT, 5) != sent_message_key(other, 5)
    assert chat_tag(CHAT) != chat_tag(other)
    with rt(app).db.transaction() as s:
        tags = {  # an outbound message without Telegram's id would add None, and fail
            key.split(":")[0] if key is not None else None
            for key in s.scalars(
                select(Message.channel_message_id).where(Message.direction == "out")
            )
        }
    assert tags == {chat_tag(CHAT), chat_tag(other)}


def test_a_throttled_button_press_is_answered_under_a_hashed_key(
    make_app: Callable[..., Flask], stub: TelegramStub, clock: FrozenClock
) -> None:
    app = make_app(**telegram_env(stub.base_url), RJ_RATE_LIMIT_SENDER="1 per minute")
    client = app.test_client()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    client.post("/webhooks/telegram", json=text_update("hi"), headers=headers)
    deliver(app, clock)
    press = button_update(last_bot_message(stub), "Yes")
    for _ in range(2):  # held both times, answered once
        answer = client.post("/webhooks/telegram", json=press, headers=headers)
        assert answer.get_json() == {"ok": True, "throttled": True}
    deliver(app, clock)
    answered = [c["callback_query_id"] for c in stub.calls("answerCallbackQuery")]
    assert answered == [press["callback_query"]["id"]]
    assert columns_holding(raw_text_values(rt(app).db), CHAT) == {}
    assert columns_holding(raw_text_values(rt(app).db), press["callback_query"]["id"]) == {}
