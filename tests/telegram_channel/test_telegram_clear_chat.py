"""Clearing the Telegram chat at the end and after DELETE; button labels never echo answers."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.labels import load_labels
from bot.telegram_channel.client import TelegramClient
from case_store.models import ErasureRecord, Message
from tests.conftest import FrozenClock
from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import (
    TELEGRAM_PATH,
    TOKEN,
    button_update,
    converse,
    deliver,
    last_bot_message,
    post,
    rt,
    text_update,
)

CLEAR = "Clear this chat"
CLEARED = "Done. We have cleared this chat."
DELETE_IT_YOURSELF = "please delete this chat yourself in Telegram"


def deleted_ids(stub: TelegramStub) -> list[int]:
    """Every message id the bot asked Telegram to delete."""
    singles = [int(call["message_id"]) for call in stub.calls("deleteMessage")]
    batches = [int(i) for call in stub.calls("deleteMessages") for i in call["message_ids"]]
    return singles + batches


def typed_ids(updates: list[dict[str, Any]]) -> set[int]:
    """The ids of the messages the person typed (a button press is not a message)."""
    return {u["message"]["message_id"] for u in updates if "message" in u}


def press_clear(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> dict[str, Any]:
    """Tap "Clear this chat" on the offer and let the worker act; the update sent."""
    press = button_update(last_bot_message(stub), CLEAR)
    post(client, press)
    deliver(app, clock)
    return press


def test_the_end_of_a_referral_offers_to_clear_the_chat(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    offer = last_bot_message(stub)
    assert offer["text"] == (
        "We can clear this chat for you, so no one else can read it on your device. "
        "Please note your reference, RJ-000001, first. Then tap the button if you'd like that."
    )
    assert [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row] == [CLEAR]


def test_clearing_deletes_the_bots_messages_and_the_persons(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    updates = converse(app, client, stub, clock, TELEGRAM_PATH)
    ours = {m["message_id"] for m in stub.sent}
    press_clear(app, client, stub, clock)
    assert set(deleted_ids(stub)) == ours | typed_ids(updates)
    assert all(len(call["message_ids"]) <= 100 for call in stub.calls("deleteMessages"))
    assert last_bot_message(stub)["text"] == CLEARED
    assert stub.calls("answerCallbackQuery")[-1].get("text") is None


def test_messages_older_than_48_hours_are_reported_not_deleted(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    first = converse(app, client, stub, clock, TELEGRAM_PATH[:3])
    old = {m["message_id"] for m in stub.sent} | typed_ids(first)
    clock.advance(hours=49)
    rest = converse(app, client, stub, clock, TELEGRAM_PATH[3:])
    press_clear(app, client, stub, clock)
    deleted = set(deleted_ids(stub))
    assert deleted and not deleted & old
    assert typed_ids(rest) <= deleted
    closing = last_bot_message(stub)["text"]
    assert closing.startswith("We have deleted our recent messages. Older ones are still here")
    assert DELETE_IT_YOURSELF in closing


def test_when_every_message_is_too_old_nothing_is_tried(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    clock.advance(hours=50)
    press_clear(app, client, stub, clock)
    assert deleted_ids(stub) == []
    closing = last_bot_message(stub)["text"]
    assert closing.startswith("Sorry, we could not delete our messages, as Telegram only lets")
    assert DELETE_IT_YOURSELF in closing


def test_telegram_refusing_is_told_kindly(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    stub.fail_next("deleteMessages", 400, "Bad Request: message can't be deleted")
    press_clear(app, client, stub, clock)
    assert last_bot_message(stub)["text"] == (
        "Sorry, we could not delete our messages just now. "
        "To remove them, please delete this chat yourself in Telegram."
    )
    assert len(stub.calls("deleteMessages")) == 1


def test_a_passing_outage_is_retried(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    stub.fail_next("deleteMessages", 502, "Bad Gateway")
    press_clear(app, client, stub, clock)
    assert last_bot_message(stub)["text"] != CLEARED
    clock.advance(seconds=30)
    deliver(app, clock)
    assert len(stub.calls("deleteMessages")) == 2
    assert last_bot_message(stub)["text"] == CLEARED


def test_a_redelivered_or_repeated_press_clears_once(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    offer = last_bot_message(stub)
    press, second_tap = button_update(offer, CLEAR), button_update(offer, CLEAR)
    post(client, press)
    post(client, press)
    post(client, second_tap)  # tapped again before the offer vanished
    deliver(app, clock)
    assert len(stub.calls("deleteMessages")) == 1
    assert [m["text"] for m in stub.sent].count(CLEARED) == 1
    answered = [c["callback_query_id"] for c in stub.calls("answerCallbackQuery")]
    for tap in (press, second_tap):
        assert answered.count(tap["callback_query"]["id"]) == 1


def test_a_confirmed_delete_offers_to_clear_and_clearing_still_finds_the_messages(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    updates = converse(app, client, stub, clock, TELEGRAM_PATH[:20])
    updates += converse(app, client, stub, clock, ["DELETE"])
    confirm = last_bot_message(stub)
    assert confirm["text"] == "Delete everything you have told us? This can't be undone."
    post(client, button_update(confirm, "Yes, delete it"))
    deliver(app, clock)
    deleted, offer = stub.sent[-2:]
    assert deleted["text"].startswith("Done. We have deleted what you told us.")
    assert offer["text"] == "Or we can clear this chat for you: tap the button if you'd like that."
    ours = {m["message_id"] for m in stub.sent}
    press_clear(app, client, stub, clock)
    assert set(deleted_ids(stub)) == ours | typed_ids(updates)
    assert last_bot_message(stub)["text"] == CLEARED
    with rt(app).db.transaction() as s:
        assert not [b for b in s.scalars(select(Message.body)) if b and "Sam" in b]


def test_a_declined_delete_makes_no_offer(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH[:5])
    post(client, text_update("DELETE"))
    deliver(app, clock)
    post(client, button_update(last_bot_message(stub), "No, keep it"))
    deliver(app, clock)
    assert "OK, nothing has been deleted." in [m["text"] for m in stub.sent]
    assert not any(CLEAR in str(m.get("reply_markup")) for m in stub.sent)


def test_while_delete_waits_for_its_answer_an_older_button_cannot_confirm_it(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH[:5])
    question = last_bot_message(stub)
    post(client, text_update("DELETE"))
    deliver(app, clock)
    first_option = question["reply_markup"]["inline_keyboard"][0][0]["text"]
    post(client, button_update(question, first_option))  # its data reads "1", as "Yes" would
    deliver(app, clock)
    assert stub.calls("answerCallbackQuery")[-1]["text"].startswith(
        "That question has already been answered."
    )
    with rt(app).db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ErasureRecord)) == 0


def test_button_labels_never_echo_what_the_person_typed(
    app: Flask, client: FlaskClient, stub: TelegramStub, clock: FrozenClock
) -> None:
    converse(app, client, stub, clock, TELEGRAM_PATH)
    labels = [
        b["text"]
        for m in stub.sent
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    shown_back = [e["text"].rsplit("\n\n» ", 1)[1] for e in stub.calls("editMessageText")]
    fixed = _fixed_labels() | {CLEAR}
    assert labels and shown_back
    assert set(labels) <= fixed and set(shown_back) <= fixed
    typed = ["CF0123450224", "Sam Quayle", "07700 900123", "my brother Dave"]
    assert set(typed) <= set(TELEGRAM_PATH)
    for answer in typed:
        assert not any(answer.lower() in label.lower() for label in labels + shown_back)


def _fixed_labels() -> set[str]:
    """Every option label in the locale's labels file."""
    data = load_labels("en").data
    entries = [*data.get("shared", {}).values()]
    entries += [e for step in data.get("steps", {}).values() for e in step.values()]
    return {e if isinstance(e, str) else e["label"] for e in entries}


def test_deletes_go_in_batches_of_at_most_100(stub: TelegramStub) -> None:
    client = TelegramClient(TOKEN, stub.base_url)
    try:
        assert client.delete_messages("900123", list(range(1, 251))) is True
    finally:
        client.close()
    assert [len(c["message_ids"]) for c in stub.calls("deleteMessages")] == [100, 100, 50]
