"""Retention: `purge` and the worker remove personal data past the profile's periods,
keep the board figures, and a second run removes nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from bot.service import Inbound
from case_store.models import (
    Conference,
    ConsentRecord,
    Conversation,
    ErasureRecord,
    Message,
    OutboxItem,
    Referral,
    ReferralNote,
)
from case_store.outbox import enqueue
from case_store.retention import Periods, purge
from case_store.stats import board_figures
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH, converse
from tests.privacy_helpers import decrypted_dump, personal_in, schedule
from webhooks.casework import change_referral
from webhooks.cli import main
from webhooks.runtime import Runtime, build_worker

OTHER = "+447700900456"


def periods(runtime: Runtime) -> Periods:
    """The bundled profile's periods."""
    return Periods.from_profile(runtime.profile.retention_days)


def run_purge(runtime: Runtime, clock: FrozenClock) -> dict[str, int]:
    """One purge at the clock's time."""
    return purge(runtime.db, periods(runtime), clock(), batch=5)


def figures(runtime: Runtime) -> dict[str, object]:
    """The board figures for all time."""
    with runtime.db.transaction() as session:
        return board_figures(session, None, None)


def a_referral_and_an_abandoned_chat(runtime: Runtime) -> None:
    """A whole self-referral from one number; a chat that stopped after two answers."""
    converse(runtime.conversations, HAPPY_PATH)
    converse(runtime.conversations, ["hi", "yes", "Sam Quayle here"], address=OTHER, prefix="a")


def test_nothing_is_removed_inside_the_periods(runtime: Runtime, clock: FrozenClock) -> None:
    a_referral_and_an_abandoned_chat(runtime)
    clock.advance(days=41)
    assert set(run_purge(runtime, clock).values()) == {0}


def test_abandoned_chats_and_message_bodies_go_after_six_weeks(
    runtime: Runtime, clock: FrozenClock
) -> None:
    a_referral_and_an_abandoned_chat(runtime)
    before = figures(runtime)
    clock.advance(days=43)
    counts = run_purge(runtime, clock)
    assert counts["abandoned_conversation"] == 1 and counts["no_contact"] == 0
    assert counts["message_bodies"] > len(HAPPY_PATH)
    with runtime.db.transaction() as s:
        chats = {c.referral_id is not None: c for c in s.scalars(select(Conversation))}
        abandoned, referred = chats[False], chats[True]
        assert (abandoned.address, abandoned.state, abandoned.status) == ("", {}, "purged")
        assert abandoned.channel == "sms" and abandoned.created_at is not None
        assert referred.address == "+447700900123"  # the referral is live: its chat stays
        assert s.scalars(select(Message.body).where(Message.body.is_not(None))).all() == []
        referral = s.scalars(select(Referral)).one()
        assert referral.details["victim"]["name"] == "Sam Quayle"
    assert figures(runtime) == before
    assert set(run_purge(runtime, clock).values()) == {0}


def test_a_referral_never_taken_up_goes_after_six_months(
    runtime: Runtime, clock: FrozenClock
) -> None:
    a_referral_and_an_abandoned_chat(runtime)
    before = figures(runtime)
    clock.advance(days=184)
    counts = run_purge(runtime, clock)
    assert counts["no_contact"] == 1 and counts["delivery_logs"] > 0
    assert personal_in(decrypted_dump(runtime.db), ("900456",)) == []
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.details == {"purged": True, "source": "self", "channel": "sms"}
        assert (referral.reference, referral.status) == ("RJ-000001", "new")
        assert s.scalars(select(ConsentRecord)).all() == []
        marks = s.scalars(select(ErasureRecord.requested_by)).all()
        assert sorted(marks) == ["retention:abandoned_conversation", "retention:no_contact"]
    assert figures(runtime) == before
    assert set(run_purge(runtime, clock).values()) == {0}


def test_a_closed_referral_goes_six_years_after_last_contact(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        referral.status, referral.first_contact_at = "closed", clock()
        s.add(ReferralNote(referral_id=referral.id, author="co", text="Sam", created_at=clock()))
    before = figures(runtime)
    clock.advance(days=2191)
    assert run_purge(runtime, clock)["closed_referral"] == 0
    clock.advance(days=2)
    assert run_purge(runtime, clock)["closed_referral"] == 1
    with runtime.db.transaction() as s:
        assert s.scalars(select(ReferralNote)).all() == []
        assert s.scalars(select(Referral.status)).one() == "closed"
    assert personal_in(decrypted_dump(runtime.db)) == []
    assert figures(runtime) == before


def move(runtime: Runtime, *statuses: str) -> None:
    """Staff move the only referral through `statuses`, as the API and dashboard do."""
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        for status in statuses:
            now = runtime.conversations.clock()
            change_referral(s, referral, "staff:1", status, None, now, runtime.desk)


def test_a_case_worked_without_contacted_keeps_the_service_users_period(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    clock.advance(days=2)
    taken_up = clock()
    move(runtime, "assessing")  # straight from new: the lifecycle allows it
    clock.advance(days=5)
    schedule(runtime, clock)
    clock.advance(days=4)
    move(runtime, "completed", "closed")
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert (referral.status, referral.first_contact_at) == ("closed", taken_up)
    before = figures(runtime)
    clock.advance(days=184)
    counts = run_purge(runtime, clock)
    assert (counts["no_contact"], counts["closed_referral"]) == (0, 0)
    with runtime.db.transaction() as s:
        assert s.scalars(select(Referral)).one().details["victim"]["name"] == "Sam Quayle"
    clock.advance(days=2193 - 184)  # six years (2192 days) after the last change
    assert run_purge(runtime, clock)["closed_referral"] == 1
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.details["purged"] and referral.status == "closed"
        assert s.scalars(select(Conference.venue)).one() == ""
    assert personal_in(decrypted_dump(runtime.db)) == []
    assert figures(runtime) == before


def test_scheduling_a_conference_straight_from_new_is_a_first_contact(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    clock.advance(days=1)
    schedule(runtime, clock)
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert (referral.status, referral.first_contact_at) == ("conference_scheduled", clock())


def test_status_history_settles_cases_worked_before_first_contact_was_recorded(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    converse(runtime.conversations, HAPPY_PATH, address=OTHER, prefix="o")
    with runtime.db.transaction() as s:
        worked, closed_at_once = s.scalars(select(Referral).order_by(Referral.id)).all()
        moves = ((worked, ("assessing", "closed")), (closed_at_once, ("closed",)))
        for referral, statuses in moves:
            for status in statuses:
                change_referral(s, referral, "staff:1", status, None, clock(), runtime.desk)
        worked.first_contact_at = None  # as a case moved new -> assessing before the fix
    clock.advance(days=184)
    assert run_purge(runtime, clock)["no_contact"] == 1
    with runtime.db.transaction() as s:
        kept, purged = s.scalars(select(Referral).order_by(Referral.id)).all()
        assert kept.details["victim"]["name"] == "Sam Quayle"
        assert purged.details["purged"] and purged.status == "closed"


def test_an_opt_out_outlives_the_purge(runtime: Runtime, clock: FrozenClock) -> None:
    converse(runtime.conversations, ["hi", "STOP"], address=OTHER)
    clock.advance(days=43)
    run_purge(runtime, clock)
    again = runtime.conversations.handle(Inbound("sms", OTHER, "hello", message_id="later"))
    assert again.opted_out and again.replies == []
    with runtime.db.transaction() as s:
        chat = s.scalars(select(Conversation)).one()
        assert chat.opted_out and chat.address == OTHER


def test_sent_and_dead_sends_lose_recipient_and_text(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.db.transaction() as s:
        for n, status in enumerate(("sent", "dead", "pending", "cancelled")):
            item = enqueue(
                s,
                kind="sms",
                recipient=OTHER,
                payload={"text": "Sam"},
                dedupe_key=f"k{n}",
                now=clock(),
            )
            assert item is not None
            item.status, item.last_error = status, "error"
    clock.advance(days=43)
    counts = run_purge(runtime, clock)
    assert (counts["spent_sends"], counts["dead_letters"]) == (2, 1)
    with runtime.db.transaction() as s:
        rows = {i.status: i for i in s.scalars(select(OutboxItem))}
        for status in ("sent", "dead", "cancelled"):
            assert (rows[status].recipient, rows[status].payload) == ("", {})
            assert rows[status].dedupe_key  # a re-run of a schedule still sees it was queued
        assert rows["pending"].recipient == OTHER  # still to be sent: untouched


def test_the_worker_purges_daily(runtime: Runtime, clock: FrozenClock) -> None:
    converse(runtime.conversations, ["hi", "yes"], address=OTHER)
    worker = build_worker(runtime)
    clock.advance(days=41, hours=12)
    worker.run_once()  # at start: nothing is old enough yet
    clock.advance(hours=13)
    worker.run_once()  # old enough now, but the purge ran only 13 hours ago
    with runtime.db.transaction() as s:
        assert s.scalars(select(Conversation.status)).one() != "purged"
    clock.advance(hours=11)
    worker.run_once()
    with runtime.db.transaction() as s:
        assert s.scalars(select(Conversation.status)).one() == "purged"


def test_purge_command_reports_counts_and_a_rerun_removes_nothing(
    runtime: Runtime, clock: FrozenClock, environ: dict[str, str]
) -> None:
    clock.now = datetime.now(UTC) - timedelta(days=50)
    converse(runtime.conversations, ["hi", "yes"], address=OTHER)
    first = CliRunner().invoke(main, ["purge"], env=environ, catch_exceptions=False)
    assert first.exit_code == 0
    assert "abandoned conversations: 1" in first.stdout
    assert "message bodies: 0" in first.stdout  # they went with their conversation
    second = CliRunner().invoke(main, ["purge"], env=environ, catch_exceptions=False)
    assert "personal data removed from 0 records" in second.stdout
