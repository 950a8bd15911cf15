"""Erasure on request: the person's data goes everywhere at once, by DELETE or from the
dashboard; an opt-out, a record that it happened and the board figures stay."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.service import Inbound
from case_store.erasure import erase_referral
from case_store.models import (
    AuditEntry,
    Conference,
    Conversation,
    ErasureRecord,
    Message,
    OutboxItem,
    Referral,
    ReferralNote,
    StaffUser,
)
from case_store.outbox import claim, enqueue, mark_failed
from case_store.stats import board_figures
from tests.conftest import FrozenClock
from tests.dashboard_helpers import add_user, deliver, log_in, self_referral, submit
from tests.helpers import HAPPY_PATH, converse, string_length
from tests.privacy_helpers import VENUE, columns_holding, decrypted_dump, personal_in, schedule
from tests.stubs.telegram_api import TelegramStub
from tests.stubs.twilio_api import TwilioStub
from tests.telegram_helpers import (
    CHAT,
    TELEGRAM_PATH,
    TOKEN,
    answer,
    as_label,
    button_update,
    last_bot_message,
    post,
    rt,
    telegram_env,
)
from tests.telegram_helpers import converse as telegram_converse
from tests.telegram_helpers import deliver as telegram_deliver
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, sms, twilio_env
from webhooks.casework import change_referral
from webhooks.runtime import Runtime

PHONE = "+447700900123"
OTHER = "+447700900456"
NOTE = "Sam says mornings are best; her brother Dave may answer"
# 64 characters of address: "staff:" and this would not fit the 32 of erasures.requested_by
LONG_EMAIL = "alexandra.worthington-fairbairn@restorative-justice.cambs.org.uk"
STATUSES = ("pending", "sending", "dead", "sent")


def figures(runtime: Runtime) -> dict[str, object]:
    """The board figures for all time."""
    with runtime.db.transaction() as session:
        return board_figures(session, None, None)


def the_conversation(runtime: Runtime, address: str = PHONE) -> Conversation:
    """The only conversation, or the one whose number hashes like `address`'s."""
    with runtime.db.transaction() as session:
        chats = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        return chats[0] if len(chats) == 1 else next(c for c in chats if c.address == address)


def sends_to_them(runtime: Runtime, conversation_id: int) -> None:
    """A send to the person in each state, one to the same number with no conversation, and
    one to someone else."""
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        for n, status in enumerate(STATUSES):
            item = enqueue(
                session,
                kind="sms",
                recipient=PHONE,
                payload={"text": f"Hello Sam ({status})"},
                dedupe_key=f"test:{status}",
                now=now,
                conversation_id=conversation_id,
            )
            assert item is not None
            item.status, item.attempts = status, n
            item.last_error = f"Invalid 'To' Phone Number: {PHONE}" if status == "dead" else None
            item.lease_until = now + timedelta(minutes=1) if status == "sending" else None
        enqueue(
            session,
            kind="sms",
            recipient=PHONE,
            payload={"text": "Sam, no chat"},
            dedupe_key="test:loose",
            now=now,
        )
        enqueue(
            session,
            kind="sms",
            recipient=OTHER,
            payload={"text": "someone else"},
            dedupe_key="test:other",
            now=now,
        )


def a_note(runtime: Runtime, text: str = NOTE) -> None:
    """A co-ordinator's note on the only referral."""
    with runtime.db.transaction() as session:
        referral = session.scalars(select(Referral)).one()
        actor, now = "staff:a@example.org", referral.created_at
        change_referral(session, referral, actor, None, text, now, runtime.desk)


# -- DELETE, by the person -------------------------------------------------------------------
def test_delete_removes_notes_every_send_and_the_address_but_keeps_the_hash(
    runtime: Runtime,
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    before = the_conversation(runtime)
    a_note(runtime)
    sends_to_them(runtime, before.id)
    converse(runtime.conversations, ["DELETE", "yes"], prefix="d")
    with runtime.db.transaction() as s:
        assert s.scalars(select(ReferralNote)).all() == []
        rows = {i.dedupe_key: i for i in s.scalars(select(OutboxItem))}
        for key in (*(f"test:{status}" for status in STATUSES), "test:loose"):
            item = rows[key]
            assert (item.recipient, item.recipient_hash, item.payload) == ("", "", {}), key
            assert item.created_at is not None and item.kind == "sms"  # anonymous facts stay
        statuses = {key: rows[f"test:{key}"].status for key in STATUSES}
        assert statuses == {
            "pending": "cancelled",
            "sending": "cancelled",
            "dead": "dead",
            "sent": "sent",
        }
        assert rows["test:dead"].last_error is None  # it named the number
        assert rows["test:other"].recipient == OTHER and rows["test:other"].status == "pending"
        chat = s.get_one(Conversation, before.id)
        assert chat.address == "" and chat.address_hash == before.address_hash
        assert (chat.status, chat.state["answers"]) == ("deleted", {})
        bodies = s.scalars(select(Message.body).order_by(Message.id)).all()
        assert bodies[:-1] == [None] * (len(bodies) - 1)  # all but the "done" reply
        assert s.scalars(select(ErasureRecord.requested_by)).one() == "person"
    assert personal_in(decrypted_dump(runtime.db), (NOTE, "Hello Sam", "no chat")) == []


def test_a_send_erased_while_it_was_being_sent_is_not_tried_again(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, ["hi", "yes"])
    chat = the_conversation(runtime)
    with runtime.db.transaction() as s:
        enqueue(
            s,
            kind="sms",
            recipient=PHONE,
            payload={"text": "Hello"},
            dedupe_key="k",
            now=clock(),
            conversation_id=chat.id,
        )
    with runtime.db.transaction() as s:
        [claimed] = claim(s, clock(), 60)
    converse(runtime.conversations, ["DELETE", "yes"], prefix="d")
    with runtime.db.transaction() as s:
        item = s.get_one(OutboxItem, claimed)
        mark_failed(s, item, "Twilio error 503", clock())  # the send in flight failed
    with runtime.db.transaction() as s:
        item = s.get_one(OutboxItem, claimed)
        assert (item.status, item.recipient, item.payload) == ("cancelled", "", {})


def test_delete_leaves_a_finished_cases_status_and_the_figures_alone(runtime: Runtime) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    with runtime.db.transaction() as s:
        s.scalars(select(Referral)).one().status = "completed"
    before = figures(runtime)
    converse(runtime.conversations, ["DELETE", "yes"], prefix="d")
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.status == "completed" and referral.details["erased"]
    assert figures(runtime) == before


def test_writing_again_after_delete_starts_afresh_and_keeps_the_number_again(
    runtime: Runtime,
) -> None:
    converse(runtime.conversations, [*HAPPY_PATH[:5], "DELETE", "yes"])
    converse(runtime.conversations, ["HELP"], prefix="h")  # answered, but nothing new told
    assert the_conversation(runtime).address == ""
    outcome = runtime.conversations.handle(Inbound("sms", PHONE, "hi", message_id="again"))
    assert outcome.replies  # the greeting and the first question
    chat = the_conversation(runtime)
    assert (chat.address, chat.status) == (PHONE, "active")


# -- by the person or by staff: what the referral's conference holds --------------------------
def delete_by_the_person(runtime: Runtime) -> None:
    """The person sends DELETE and confirms it."""
    converse(runtime.conversations, ["DELETE", "yes"], prefix="d")


def erase_by_staff(runtime: Runtime) -> None:
    """Staff erase the only referral, as the dashboard does."""
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        erase_referral(s, referral, "staff:1", runtime.conversations.clock(), runtime.desk)


@pytest.mark.parametrize("erase_it", [delete_by_the_person, erase_by_staff])
def test_erasure_removes_where_the_referrals_conference_meets(
    runtime: Runtime, clock: FrozenClock, erase_it: Callable[[Runtime], None]
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    schedule(runtime, clock)
    with runtime.db.transaction() as s:
        assert s.scalars(select(Conference.venue)).one() == VENUE
    erase_it(runtime)
    with runtime.db.transaction() as s:
        conference = s.scalars(select(Conference)).one()
        assert conference.venue == ""
        # when it is, and who was invited, are not the person's: they stay; it is called off
        assert (conference.status, len(conference.invitations)) == ("cancelled", 1)
        assert conference.starts_at == clock() + timedelta(days=3)


# -- from the dashboard ------------------------------------------------------------------------
@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """The stub Twilio REST API."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


@pytest.fixture
def app(make_app: Callable[..., Flask], twilio: TwilioStub) -> Flask:
    """The service with SMS on, and a co-ordinator whose login email is long."""
    built = make_app(**twilio_env(twilio.base_url))
    add_user(built, email=LONG_EMAIL)
    return built


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    """A client logged in as that co-ordinator."""
    client = app.test_client()
    assert log_in(client, email=LONG_EMAIL).status_code == 302
    return client


def erase(staff: FlaskClient, reference: str) -> int:
    """Erase from the referral's page, typing the reference to confirm; the status code."""
    page = f"/coordinator/referrals/{reference}"
    return submit(staff, page, f"{page}/erase", {"confirm": reference}, "erase-").status_code


def message_them(staff: FlaskClient, reference: str, text: str) -> None:
    """The co-ordinator messages the person from the referral page."""
    page = f"/coordinator/referrals/{reference}"
    fields = {"text": text, "outside_safe_times": "y"}
    assert submit(staff, page, f"{page}/message", fields, "message-").status_code == 302


def test_erasing_with_a_long_login_email_records_the_login_id_and_audits_the_email(
    staff: FlaskClient, app: Flask
) -> None:
    reference = self_referral(staff)
    assert erase(staff, reference) == 302  # was a 500 on PostgreSQL: too long for the column
    with rt(app).db.transaction() as s:
        user_id = s.scalars(select(StaffUser.id).where(StaffUser.email == LONG_EMAIL)).one()
        record = s.scalars(select(ErasureRecord)).one()
        assert record.requested_by == f"staff:{user_id}"
        assert len(record.requested_by) <= string_length(ErasureRecord, "requested_by")
        assert record.referral_reference == reference
        erased = s.scalars(select(AuditEntry).where(AuditEntry.action == "erased")).one()
        assert (erased.actor, erased.referral_reference) == (f"staff:{LONG_EMAIL}", reference)


def test_erasing_from_the_dashboard_removes_the_person_everywhere_at_once(
    staff: FlaskClient, app: Flask, clock: FrozenClock
) -> None:
    reference = self_referral(staff)
    runtime = rt(app)
    a_note(runtime)
    message_them(staff, reference, "Hello Sam, it is Alex from the service.")
    deliver(app, clock)  # sent
    message_them(staff, reference, "Sam, are you free on Tuesday?")  # still queued
    before, chat = figures(runtime), the_conversation(runtime)
    assert erase(staff, reference) == 302
    secrets = (NOTE, "Hello Sam", "free on Tuesday")
    assert personal_in(decrypted_dump(runtime.db), secrets) == []
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.details == {"erased": True, "source": "self", "channel": "sms"}
        assert referral.status == "withdrawn"
        erased = s.get_one(Conversation, chat.id)
        assert erased.address == "" and erased.address_hash == chat.address_hash
        assert (erased.status, erased.step) == ("deleted", None)
        to_them = s.scalars(select(OutboxItem).where(OutboxItem.kind == "sms")).all()
        assert sorted(i.status for i in to_them) == ["cancelled", "sent"]
        assert {(i.recipient, i.recipient_hash) for i in to_them} == {("", "")}
    after = figures(runtime)
    assert {**after, "by_status": None, "live": None, "withdrawn": None} == {
        **before,
        "by_status": None,
        "live": None,
        "withdrawn": None,
    }
    assert (before["live"], after["live"], after["withdrawn"]) == (1, 0, 1)
    page = staff.get(f"/coordinator/referrals/{reference}").text
    assert "was erased" in page and 'id="message"' not in page  # no number left to message


def test_a_stop_is_still_honoured_after_erasure(staff: FlaskClient, app: Flask) -> None:
    reference = self_referral(staff)
    sms(staff, "STOP")
    assert erase(staff, reference) == 302
    runtime = rt(app)
    assert the_conversation(runtime).address == ""
    again = runtime.conversations.handle(Inbound("sms", PHONE, "hello", message_id="later"))
    assert again.opted_out and again.replies == []
    chat = the_conversation(runtime)
    assert chat.opted_out and chat.address == ""


# -- Telegram: clearing the chat after DELETE still works, and keeps no chat id ----------------
@pytest.fixture
def telegram() -> Iterator[TelegramStub]:
    """The stub Bot API."""
    with TelegramStub(TOKEN) as server:
        yield server


def test_after_delete_and_clearing_the_chat_the_conversations_sends_keep_no_chat_id(
    make_app: Callable[..., Flask], telegram: TelegramStub, clock: FrozenClock
) -> None:
    app = make_app(**telegram_env(telegram.base_url))
    client = app.test_client()
    telegram_converse(app, client, telegram, clock, [*TELEGRAM_PATH[:20], "DELETE"])
    post(client, button_update(last_bot_message(telegram), "Yes, delete it"))
    telegram_deliver(app, clock)
    chat = the_conversation(rt(app))
    assert chat.address == ""  # gone once the turn that erased had queued its replies
    post(client, button_update(last_bot_message(telegram), "Clear this chat"))
    telegram_deliver(app, clock)
    assert telegram.calls("deleteMessages")
    assert last_bot_message(telegram)["text"] == "Done. We have cleared this chat."
    with rt(app).db.transaction() as s:
        assert s.get_one(Conversation, chat.id).address == ""
        theirs = s.scalars(select(OutboxItem).where(OutboxItem.conversation_id == chat.id)).all()
        assert len(theirs) > 3 and all(i.status in {"sent", "cancelled"} for i in theirs)
        assert {(i.recipient, i.recipient_hash) for i in theirs} == {("", "")}
        assert all(i.payload == {} for i in theirs)


def sends_holding_the_chat_id(runtime: Runtime) -> list[str]:
    """The dedupe keys of Telegram sends whose recipient or payload, decrypted, names the chat."""
    with runtime.db.transaction() as s:
        sends = s.scalars(select(OutboxItem).where(OutboxItem.kind == "telegram")).all()
        stored = {i.dedupe_key: [i.recipient, json.dumps(i.payload)] for i in sends}
    return sorted(columns_holding(stored, CHAT))


def edits(runtime: Runtime) -> list[OutboxItem]:
    """The sends that show a pressed button back on its question (editMessageText)."""
    with runtime.db.transaction() as s:
        query = select(OutboxItem).where(OutboxItem.dedupe_key.startswith("tg:edit:"))
        return list(s.scalars(query.order_by(OutboxItem.id)))


def test_delete_on_telegram_leaves_the_chat_id_in_no_send_not_even_an_edit(
    make_app: Callable[..., Flask], telegram: TelegramStub, clock: FrozenClock
) -> None:
    app = make_app(**telegram_env(telegram.base_url))
    client = app.test_client()
    telegram_converse(app, client, telegram, clock, [*TELEGRAM_PATH[:20], "DELETE"])
    shown_back = edits(rt(app))
    assert shown_back and all(e.status == "sent" for e in shown_back)
    assert sends_holding_the_chat_id(rt(app))  # as a live chat needs: it can still be cleared
    post(client, button_update(last_bot_message(telegram), "Yes, delete it"))
    telegram_deliver(app, clock)
    # the press that confirmed the erasure is shown back too, after the erasure itself
    assert telegram.calls("editMessageText")[-1]["text"].endswith("» Yes, delete it")
    assert len(edits(rt(app))) == len(shown_back) + 1
    assert sends_holding_the_chat_id(rt(app)) == []


def test_erasing_a_telegram_referral_cancels_an_edit_not_yet_sent(
    make_app: Callable[..., Flask], telegram: TelegramStub, clock: FrozenClock
) -> None:
    app = make_app(**telegram_env(telegram.base_url))
    client = app.test_client()
    telegram_converse(app, client, telegram, clock, TELEGRAM_PATH[:-1])
    last: list[dict[str, Any]] = []
    answer(telegram, last.append, as_label(telegram, TELEGRAM_PATH[-1]))
    assert "callback_query" in last[0]  # the last answer is a button press
    post(client, last[0])  # the referral is made; the worker has not run yet
    shown = len(telegram.calls("editMessageText"))
    assert edits(rt(app))[-1].status == "pending"
    erase_by_staff(rt(app))
    assert sends_holding_the_chat_id(rt(app)) == []
    assert (edits(rt(app))[-1].status, edits(rt(app))[-1].payload) == ("cancelled", {})
    telegram_deliver(app, clock)
    assert len(telegram.calls("editMessageText")) == shown
