"""The outbox worker: real SMTP (aiosmtpd), the real Twilio client against a stub API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import pytest
from sqlalchemy import select

from case_store.erasure import erase_conversation
from case_store.models import Conversation, OutboxItem
from case_store.outbox import MAX_ATTEMPTS, claim, enqueue
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH, converse
from tests.stubs.smtp import SmtpSink, text_of
from tests.stubs.twilio_api import TwilioStub
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, twilio_env
from webhooks.runtime import Runtime, build_worker


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """A stub Twilio REST API on 127.0.0.1."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


@pytest.fixture
def runtime_with_mail(
    make_runtime: Callable[..., Runtime], smtp: SmtpSink, twilio: TwilioStub
) -> Runtime:
    """A runtime sending email to the SMTP sink and SMS to the Twilio stub."""
    return make_runtime(
        RJ_SMTP_HOST="127.0.0.1",
        RJ_SMTP_PORT=str(smtp.port),
        RJ_MAIL_FROM="rj@example.org",
        **twilio_env(twilio.base_url),
    )


def drain(runtime: Runtime, clock: FrozenClock, rounds: int = 20) -> None:
    """Run the worker until nothing is due, moving the clock past any pacing."""
    worker = build_worker(runtime)
    for _ in range(rounds):
        if not worker.run_once():
            clock.advance(seconds=2)
            if not worker.run_once():
                return


def test_new_referral_email_arrives_over_smtp_with_no_personal_data(
    runtime_with_mail: Runtime, smtp: SmtpSink, clock: FrozenClock
) -> None:
    converse(runtime_with_mail.conversations, HAPPY_PATH)
    drain(runtime_with_mail, clock)
    message = smtp.wait_for(1, timeout=5)[0]
    assert message["Subject"] == "New RJ referral RJ-000001 (self, sms)"
    assert message["To"] == "coordinator@example.org"
    body, html = text_of(message), text_of(message, "html")
    assert "http://127.0.0.1:8000/coordinator/referrals/RJ-000001" in body
    for personal in ("Sam", "Quayle", "7700900123", "CF0123450224", "brother"):
        assert personal not in body + html


def test_an_urgent_sign_emails_at_once_before_the_referral_exists(
    runtime_with_mail: Runtime, smtp: SmtpSink, clock: FrozenClock
) -> None:
    converse(runtime_with_mail.conversations, ["hi", "he's outside my house now with a knife"])
    drain(runtime_with_mail, clock)
    message = smtp.wait_for(1, timeout=5)[0]
    assert message["Subject"].startswith("URGENT: safeguarding sign")
    assert "knife" not in text_of(message)


def test_service_started_sms_goes_through_twilio_in_order(
    runtime_with_mail: Runtime, twilio: TwilioStub, clock: FrozenClock
) -> None:
    service = runtime_with_mail.conversations
    converse(service, ["hi"])
    with runtime_with_mail.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        for n in range(3):
            enqueue(
                s,
                kind="sms",
                recipient=conversation.address,
                payload={"text": f"note {n}"},
                dedupe_key=f"note-{n}",
                now=clock(),
                conversation_id=conversation.id,
            )
    drain(runtime_with_mail, clock)
    sent = [m for m in twilio.messages if m["To"] == "+447700900123"]
    assert [m["Body"] for m in sent] == ["note 0", "note 1", "note 2"]
    assert all(m["StatusCallback"] == "http://127.0.0.1:8000/webhooks/twilio/status" for m in sent)


def test_no_send_after_stop(
    runtime_with_mail: Runtime, twilio: TwilioStub, clock: FrozenClock
) -> None:
    service = runtime_with_mail.conversations
    converse(service, ["hi"])
    with runtime_with_mail.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        enqueue(
            s,
            kind="sms",
            recipient=conversation.address,
            payload={"text": "later"},
            dedupe_key="later",
            now=clock(),
            conversation_id=conversation.id,
        )
    converse(service, ["STOP"], prefix="stop")
    drain(runtime_with_mail, clock)
    assert twilio.messages == []


def _two_people_with_a_send_each(runtime: Runtime, clock: FrozenClock) -> None:
    """A and B (in that order) each start a conversation and have one SMS queued."""
    for number in (PERSON_A, PERSON_B):
        converse(runtime.conversations, ["hi"], address=number, prefix=number)
    with runtime.db.transaction() as s:
        for conversation in s.scalars(select(Conversation).order_by(Conversation.id)):
            enqueue(
                s,
                kind="sms",
                recipient=conversation.address,
                payload={"text": "a note"},
                dedupe_key=f"note:{conversation.id}",
                now=clock(),
                conversation_id=conversation.id,
            )


PERSON_A, PERSON_B = "+447700900201", "+447700900202"


def test_a_stop_after_the_claim_still_stops_the_send(
    runtime_with_mail: Runtime, twilio: TwilioStub, clock: FrozenClock
) -> None:
    """Both sends are claimed in one batch; B's STOP lands while A's is going out."""
    runtime = runtime_with_mail
    _two_people_with_a_send_each(runtime, clock)
    twilio.on_message = lambda _params: converse(
        runtime.conversations, ["STOP"], address=PERSON_B, prefix="stop"
    )
    worker = build_worker(runtime)
    assert worker.run_once() == 2  # both claimed
    assert [m["To"] for m in twilio.messages] == [PERSON_A]
    with runtime.db.transaction() as s:
        rows = s.execute(select(OutboxItem.dedupe_key, OutboxItem.status)).all()
        statuses = {key: status for key, status in rows}
        b_note = s.scalars(select(OutboxItem).where(OutboxItem.status == "cancelled")).one()
    assert statuses == {"note:1": "sent", "note:2": "cancelled"}
    assert b_note.last_error == "opted out"


def test_an_erasure_after_the_claim_still_stops_the_send(
    runtime_with_mail: Runtime, twilio: TwilioStub, clock: FrozenClock
) -> None:
    """B erases their data while A's send is going out: B's claimed send never goes."""
    runtime = runtime_with_mail

    def erase_b(_params: dict[str, object]) -> None:
        with runtime.db.transaction() as s:
            b = s.scalars(select(Conversation).where(Conversation.id == 2)).one()
            erase_conversation(s, b, "person", clock(), runtime.desk)

    _two_people_with_a_send_each(runtime, clock)
    twilio.on_message = erase_b
    assert build_worker(runtime).run_once() == 2
    assert [m["To"] for m in twilio.messages] == [PERSON_A]
    with runtime.db.transaction() as s:
        b_note = s.scalars(select(OutboxItem).where(OutboxItem.dedupe_key == "note:2")).one()
    assert (b_note.status, b_note.recipient, b_note.payload) == ("cancelled", "", {})


def test_opted_out_at_twilio_marks_the_person_and_dead_letters(
    runtime_with_mail: Runtime, twilio: TwilioStub, clock: FrozenClock
) -> None:
    converse(runtime_with_mail.conversations, ["hi"])
    twilio.fail_to(
        "+447700900123", status=400, code=21610, message="Attempt to send to unsubscribed recipient"
    )
    with runtime_with_mail.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        enqueue(
            s,
            kind="sms",
            recipient=conversation.address,
            payload={"text": "x"},
            dedupe_key="x",
            now=clock(),
            conversation_id=conversation.id,
        )
    drain(runtime_with_mail, clock)
    with runtime_with_mail.db.transaction() as s:
        assert s.scalars(select(Conversation)).one().opted_out is True
        assert s.scalars(select(OutboxItem.status).where(OutboxItem.kind == "sms")).one() == "dead"


def test_failures_back_off_then_dead_letter(
    make_runtime: Callable[..., Runtime], clock: FrozenClock
) -> None:
    runtime = make_runtime(RJ_SMTP_HOST="127.0.0.1", RJ_SMTP_PORT="9")  # nothing listens there
    with runtime.db.transaction() as s:
        enqueue(
            s,
            kind="email",
            recipient="c@example.org",
            payload={"subject": "s", "text": "t", "html": "<p>h</p>"},
            dedupe_key="e",
            now=clock(),
        )
    worker = build_worker(runtime)
    delays = []
    for _ in range(MAX_ATTEMPTS):
        assert worker.run_once() == 1
        with runtime.db.transaction() as s:
            item = s.scalars(select(OutboxItem)).one()
        if item.status == "dead":
            break
        delays.append((item.next_attempt_at - clock()).total_seconds())
        clock.now = item.next_attempt_at
    assert item.status == "dead" and item.attempts == MAX_ATTEMPTS
    assert "SMTP failed" in (item.last_error or "")
    assert all(later > earlier for earlier, later in pairwise(delays))


def test_a_lease_stops_a_second_claim_until_it_expires(
    runtime: Runtime, clock: FrozenClock
) -> None:
    with runtime.db.transaction() as s:
        enqueue(s, kind="email", recipient="c@example.org", payload={}, dedupe_key="k", now=clock())
    with runtime.db.transaction() as s:
        assert len(claim(s, clock(), lease_seconds=30)) == 1
    with runtime.db.transaction() as s:
        assert claim(s, clock(), lease_seconds=30) == []
    clock.advance(seconds=31)
    with runtime.db.transaction() as s:
        assert len(claim(s, clock(), lease_seconds=30)) == 1


def test_emails_are_written_to_files_without_smtp(runtime: Runtime, clock: FrozenClock) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    drain(runtime, clock)
    files = list(runtime.settings.outbox_path.glob("*.eml"))
    assert len(files) == 1
    assert b"RJ-000001" in files[0].read_bytes()
