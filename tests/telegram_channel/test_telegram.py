"""Telegram through the real PTB Bot against a stub Bot API server, via the Flask webhook."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.telegram_channel.client import TelegramClient
from bot.telegram_channel.poll import poll
from bot.telegram_channel.updates import UpdateHandler
from case_store.models import Conversation, Message, OutboxItem, Referral
from tests.conftest import FrozenClock
from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import (
    SECRET,
    TELEGRAM_PATH,
    TOKEN,
    answer,
    as_label,
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
from webhooks.runtime import Runtime, build_worker

LABELS = {"yes": "Yes", "no": "No"}


def test_a_whole_self_referral_by_buttons_and_typing(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    *_, finished, clear_offer = stub.sent
    assert "Your reference is RJ-000001" in finished["text"]
    assert "clear this chat" in clear_offer["text"]
    with rt(app).db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert (referral.source, referral.channel) == ("self", "telegram")
        assert referral.details["victim"]["phone"] == "+447700900123"
    presses = stub.calls("answerCallbackQuery")
    assert presses and all(not p.get("text") for p in presses)
    edits = stub.calls("editMessageText")
    assert edits and edits[0]["text"].endswith("» Yes")


def test_questions_come_with_an_inline_keyboard(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    post(client, text_update("/start"))
    deliver(app, clock)
    question = last_bot_message(stub)
    rows = question["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [["Yes"], ["No"]]
    assert all(len(b["callback_data"].encode()) <= 64 for row in rows for b in row)
    assert question["text"] == "First, are you safe right now?"


def test_a_redelivered_update_changes_nothing(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    post(client, text_update("/start"))
    deliver(app, clock)
    update = text_update("yes", update_id=777)
    assert post(client, update) == 200
    assert post(client, update) == 200
    deliver(app, clock)
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Conversation)).one().step == "safe_here"
    assert len(stub.sent) == 3


def test_an_old_button_is_answered_kindly_and_changes_nothing(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    post(client, text_update("/start"))
    deliver(app, clock)
    first_question = last_bot_message(stub)
    post(client, button_update(first_question, "Yes"))
    deliver(app, clock)
    sent_before = len(stub.sent)
    post(client, button_update(first_question, "No"))
    deliver(app, clock)
    assert len(stub.sent) == sent_before
    assert stub.calls("answerCallbackQuery")[-1]["text"].startswith(
        "That question has already been answered."
    )
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Conversation)).one().step == "safe_here"


def test_wrong_or_missing_secret_is_403_and_nothing_stored(app: Flask, client: FlaskClient) -> None:
    assert post(client, text_update("hi"), secret="wrong") == 403
    assert client.post("/webhooks/telegram", json=text_update("hi")).status_code == 403
    with rt(app).db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0


def test_telegram_is_off_without_its_settings(make_app: Callable[..., Flask]) -> None:
    response = make_app().test_client().post("/webhooks/telegram", json=text_update("hi"))
    assert response.status_code == 503


def test_bodies_that_are_not_updates(client: FlaskClient) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    assert client.post("/webhooks/telegram", data="{nope", headers=headers).status_code == 400
    assert client.post("/webhooks/telegram", json=[1, 2], headers=headers).status_code == 200
    assert (
        client.post("/webhooks/telegram", json={"update_id": "x"}, headers=headers).status_code
        == 200
    )
    weird = {"update_id": 5, "message": {"message_id": "bad"}}
    assert client.post("/webhooks/telegram", json=weird, headers=headers).status_code in {200, 400}


def test_stickers_get_a_kind_answer_and_groups_silence(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    assert post(client, sticker()) == 200
    assert post(client, text_update("hello all", chat=-100, chat_type="group")) == 200
    edited = {"update_id": 31337, "edited_message": text_update("hi")["message"]}
    assert post(client, edited) == 200
    deliver(app, clock)
    assert [m["text"] for m in stub.sent] == [
        "Sorry, I can only read typed messages. Please type your answer, or tap a button."
    ]


def test_a_blocked_bot_marks_the_person_opted_out(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    stub.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    post(client, text_update("/start"))
    deliver(app, clock)
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Conversation)).one().opted_out is True
        statuses = set(s.scalars(select(OutboxItem.status)))
    assert statuses <= {"dead", "cancelled"}


def test_flood_limits_honour_retry_after(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    stub.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", {"retry_after": 7})
    post(client, text_update("/start"))
    worker = build_worker(rt(app))
    worker.run_once()
    with rt(app).db.transaction() as s:
        first = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).first()
        assert first is not None and first.status == "pending"
        assert (first.next_attempt_at - clock()).total_seconds() == pytest.approx(7)
    clock.advance(seconds=8)
    deliver(app, clock)
    assert len(stub.sent) == 2


def test_polling_completes_the_same_conversation(
    make_runtime: Callable[..., Runtime], stub: TelegramStub, clock: FrozenClock
) -> None:
    runtime = make_runtime(**telegram_env(stub.base_url))
    client = TelegramClient(TOKEN, stub.base_url)
    stop = threading.Event()
    thread = threading.Thread(
        target=poll,
        daemon=True,
        args=(client, UpdateHandler(runtime.conversations, runtime.db), stop, 1),
    )
    thread.start()
    worker = build_worker(runtime)

    def deliver_polled() -> None:
        for _ in range(40):
            worker.run_once()
            clock.advance(seconds=1.1)
            if not _pending(runtime) and not _unhandled(runtime, stub):
                return
            stop.wait(0.05)

    stub.push_update(text_update("/start"))
    deliver_polled()
    for reply in TELEGRAM_PATH[1:]:
        answer(stub, stub.push_update, as_label(stub, reply))
        deliver_polled()
    stop.set()
    thread.join(timeout=10)
    assert "Your reference is RJ-000001" in stub.sent[-2]["text"]


def _pending(runtime: Runtime) -> int:
    """Sends not yet made."""
    with runtime.db.transaction() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_(("pending", "sending")))
            )
            or 0
        )


def _unhandled(runtime: Runtime, stub: TelegramStub) -> bool:
    """True until the poller has asked past the last update: it handles, then asks again."""
    if not stub.updates:
        return False
    last = max(update["update_id"] for update in stub.updates)
    offsets = [int(call.get("offset") or 0) for call in stub.calls("getUpdates")]
    return max(offsets, default=0) <= last
