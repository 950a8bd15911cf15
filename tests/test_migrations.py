"""The migrations build exactly the tables the models describe; 0006 hashes chat ids; 0007
widens the columns that name staff and hashes co-ordinators' addresses in email keys; 0008
links the volunteer sends already queued to their invitations."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import select

from case_store import crypto
from case_store.conversations import record_message
from case_store.migrate import alembic_config, upgrade
from case_store.models import (
    AuditEntry,
    Base,
    Conference,
    InvitationSms,
    Message,
    OutboxItem,
    Referral,
    ReferralNote,
)
from case_store.outbox import enqueue
from case_store.telegram_ids import callback_dedupe_key, sent_message_key
from tests.conftest import FROZEN_NOW, FrozenClock
from tests.helpers import HAPPY_PATH, converse
from tests.privacy_helpers import columns_holding, raw_text_values, schedule
from webhooks.casework import change_referral
from webhooks.cli import main
from webhooks.notifications import recipient_tag
from webhooks.runtime import Runtime


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def current_revision(runtime: Runtime) -> str | None:
    """The revision the database is at."""
    with runtime.db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(runtime: Runtime) -> str | None:
    """The newest revision there is."""
    return ScriptDirectory.from_config(alembic_config(runtime.db.engine)).get_current_head()


PLAIN_CHAT = "900123"
OLD_KEYS = ("tg:edit:900123:105", "clear:900123:106", "tg:cb:4455667788", "reply:1:0")


def _store_pre_0006_rows(runtime: Runtime) -> None:
    """Rows as the app wrote them before 0006: plain chat ids and button press ids."""
    now = FROZEN_NOW
    with runtime.db.transaction() as s:
        for direction, key, channel in (
            ("out", "900123:m105", "telegram"),
            ("out", "900123:m106", "telegram"),
            ("in", "u1001:m1002", "telegram"),
            ("in", "u1003", "telegram"),
            ("in", "SM0123456789abcdef0123456789abcdef", "sms"),
        ):
            record_message(s, None, direction, None, now, channel=channel, channel_message_id=key)
        for key in OLD_KEYS:
            enqueue(s, kind="telegram", recipient=PLAIN_CHAT, payload={}, dedupe_key=key, now=now)


def _stored(runtime: Runtime) -> tuple[list[str], list[str]]:
    """(channel message ids, dedupe keys) in the order they were stored."""
    with runtime.db.transaction() as s:
        ids = s.scalars(select(Message.channel_message_id).order_by(Message.id)).all()
        keys = s.scalars(select(OutboxItem.dedupe_key).order_by(OutboxItem.id)).all()
    return [str(i) for i in ids], list(keys)


def test_0006_rewrites_plain_telegram_chat_ids_as_the_app_now_writes_them(
    runtime: Runtime, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = alembic_config(runtime.db.engine)
    command.downgrade(config, "0005")
    _store_pre_0006_rows(runtime)
    assert set(columns_holding(raw_text_values(runtime.db), PLAIN_CHAT)) == {
        "messages.channel_message_id",
        "outbox.dedupe_key",
    }
    monkeypatch.setattr(crypto, "_current", None)  # as a fresh `rj-frontdoor db upgrade`
    result = CliRunner().invoke(main, ["db", "upgrade"], env=environ, catch_exceptions=False)
    assert result.exit_code == 0

    ids, keys = _stored(runtime)
    assert ids == [
        sent_message_key(PLAIN_CHAT, 105),
        sent_message_key(PLAIN_CHAT, 106),
        "u1001:m1002",
        "u1003",
        "SM0123456789abcdef0123456789abcdef",
    ]
    assert keys == [
        f"tg:edit:{sent_message_key(PLAIN_CHAT, 105)}",
        f"clear:{sent_message_key(PLAIN_CHAT, 106)}",
        callback_dedupe_key("4455667788"),
        "reply:1:0",
    ]
    assert columns_holding(raw_text_values(runtime.db), PLAIN_CHAT) == {}
    assert columns_holding(raw_text_values(runtime.db), "4455667788") == {}
    # A redelivered press or edit after the upgrade is still known, so nothing goes twice.
    with runtime.db.transaction() as s:
        again = [
            enqueue(s, kind="telegram", recipient="x", payload={}, dedupe_key=k, now=FROZEN_NOW)
            for k in keys
        ]
    assert again == [None] * len(keys)

    # Running it again (down and up) changes nothing.
    command.downgrade(config, "0005")
    upgrade(runtime.db.engine)
    assert _stored(runtime) == (ids, keys)


def test_0006_needs_no_keys_when_there_is_nothing_to_rewrite(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.downgrade(alembic_config(runtime.db.engine), "0005")
    monkeypatch.setattr(crypto, "_current", None)
    upgrade(runtime.db.engine)
    assert current_revision(runtime) == head_revision(runtime)


def test_0006_without_keys_says_how_to_run_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.downgrade(alembic_config(runtime.db.engine), "0005")
    _store_pre_0006_rows(runtime)
    monkeypatch.setattr(crypto, "_current", None)
    with pytest.raises(RuntimeError, match="rj-frontdoor db upgrade"):
        upgrade(runtime.db.engine)
    assert current_revision(runtime) == "0005"


def test_0007_widens_the_columns_naming_staff_and_keeps_what_they_hold(runtime: Runtime) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    command.downgrade(alembic_config(runtime.db.engine), "0006")
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        actor = "staff:a@example.org"
        change_referral(s, referral, actor, "contacted", "Rang.", FROZEN_NOW, runtime.desk)
    upgrade(runtime.db.engine)  # SQLite rebuilds both tables to widen a column
    longest = f"staff:{'a' * 64}@{'b' * 185}"  # "staff:" and an email of 254 characters
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        change_referral(s, referral, longest, None, "Rang again.", FROZEN_NOW, runtime.desk)
    with runtime.db.transaction() as s:
        trail = s.scalars(select(AuditEntry.actor).order_by(AuditEntry.id)).all()
        notes = s.execute(select(ReferralNote.author, ReferralNote.text).order_by(ReferralNote.id))
        assert [*notes] == [("staff:a@example.org", "Rang."), (longest, "Rang again.")]
    assert trail == ["staff:a@example.org"] * 2 + [longest]  # status and note; then a note


COORDINATOR = "coordinator@example.org"  # RJ_COORDINATOR_EMAILS in the test environment


def holding(runtime: Runtime, text: str) -> list[str]:
    """The columns with a value holding `text`, as stored (encrypted columns encrypted)."""
    stored = raw_text_values(runtime.db)
    return sorted(name for name, values in stored.items() if any(text in v for v in values))


def test_0007_hashes_the_coordinators_address_in_email_keys_already_stored(
    runtime: Runtime, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = alembic_config(runtime.db.engine)
    command.downgrade(config, "0006")
    converse(runtime.conversations, HAPPY_PATH)  # emails the co-ordinator about RJ-000001
    with runtime.db.transaction() as s:  # keys as the app wrote them before 0007
        email = s.scalars(select(OutboxItem).where(OutboxItem.kind == "email")).one()
        email.dedupe_key = f"email:referral:RJ-000001:{COORDINATOR}"
        for key in (f"email:urgent:sms:7:{COORDINATOR}", "reply:1:0"):
            enqueue(
                s, kind="email", recipient=COORDINATOR, payload={}, dedupe_key=key, now=FROZEN_NOW
            )
    assert "outbox.dedupe_key" in holding(runtime, COORDINATOR)
    monkeypatch.setattr(crypto, "_current", None)  # as a fresh `rj-frontdoor db upgrade`
    result = CliRunner().invoke(main, ["db", "upgrade"], env=environ, catch_exceptions=False)
    assert result.exit_code == 0

    tag = recipient_tag(COORDINATOR)
    keys = _stored(runtime)[1]
    assert keys == [f"email:referral:RJ-000001:{tag}", f"email:urgent:sms:7:{tag}", "reply:1:0"]
    assert holding(runtime, COORDINATOR) == []
    with runtime.db.transaction() as s:  # the same notification again is the same email
        referral = s.scalars(select(Referral)).one()
        runtime.notifier.new_referral(s, referral, FROZEN_NOW)
    assert _stored(runtime)[1] == keys

    command.downgrade(config, "0006")  # and running it again changes nothing
    upgrade(runtime.db.engine)
    assert _stored(runtime)[1] == keys


def send_links(runtime: Runtime) -> list[tuple[str, int]]:
    """(dedupe key, invitation id) of each send linked to an invitation."""
    with runtime.db.transaction() as s:
        query = select(OutboxItem.dedupe_key, InvitationSms.invitation_id).join(
            InvitationSms, InvitationSms.outbox_id == OutboxItem.id
        )
        return sorted((key, invitation) for key, invitation in s.execute(query))


def test_0008_links_the_volunteer_sends_already_queued_as_the_app_now_does(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, HAPPY_PATH)  # replies to the person: no invitation
    schedule(runtime, clock)  # an invitation to Bea
    with runtime.db.transaction() as s:  # and a move ("moved{time}:{id}:{start}")
        conference = s.scalars(select(Conference)).one()
        runtime.desk.moved(s, conference, clock())
    linked = send_links(runtime)
    assert [key.split(":", 1)[0][:5] for key, _ in linked] == ["invit", "moved"]
    command.downgrade(alembic_config(runtime.db.engine), "0007")
    upgrade(runtime.db.engine)
    assert send_links(runtime) == linked
