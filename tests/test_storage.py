"""What is stored: encrypted personal data, one referral, consent records, erasure."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from case_store.crypto import Vault, new_fernet_key
from case_store.models import ConsentRecord, Conversation, ErasureRecord, Message, Referral
from tests.conftest import FROZEN_NOW
from tests.helpers import HAPPY_PATH, converse, raw_dump
from webhooks.runtime import Runtime


def test_a_finished_conversation_stores_one_self_referral(runtime: Runtime) -> None:
    outcomes = converse(runtime.conversations, HAPPY_PATH)
    assert "RJ-000001" in outcomes[-1].replies[0].text
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert (referral.reference, referral.source, referral.channel) == (
            "RJ-000001",
            "self",
            "sms",
        )
        assert referral.details["victim"]["name"] == "Sam Quayle"
        assert referral.details["victim"]["phone"] == "+447700900123"
        assert referral.details["hopes"] == ["conference", "letters"]
        assert referral.details["offence"]["crime_reference"] == "CF0123450224"


def test_no_personal_data_is_stored_in_plain_text(runtime: Runtime) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    dump = raw_dump(runtime.db)
    for secret in ("Sam Quayle", "+447700900123", "7700900123", "CF0123450224", "brother Dave"):
        assert secret not in dump


def test_consent_items_are_recorded_one_by_one_with_wording(runtime: Runtime) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    with runtime.db.transaction() as s:
        records = s.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        referral = s.scalars(select(Referral)).one()
    assert [r.item for r in records] == [
        "privacy",
        "contact",
        "police_check",
        "voluntary",
        "withdraw",
        "share",
        "follow_up",
    ]
    assert [r.answer for r in records] == ["yes"] * 5 + ["no", "yes"]
    assert all(r.referral_id == referral.id and len(r.wording_hash) == 64 for r in records)
    assert "police crime record" in records[2].wording
    assert records[0].notice_version == runtime.profile.notice_version


def test_a_repeated_message_id_changes_nothing(runtime: Runtime) -> None:
    service = runtime.conversations
    first = converse(service, ["hi", "yes"])
    again = converse(service, ["hi", "yes"])
    assert [o.duplicate for o in first] == [False, False]
    assert [o.duplicate for o in again] == [True, True]
    with runtime.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2 + 3  # two in, three replies
        assert s.scalars(select(Conversation)).one().step == "safe_here"


def test_delete_erases_what_was_said_and_records_that_it_happened(runtime: Runtime) -> None:
    converse(runtime.conversations, [*HAPPY_PATH, "DELETE", "yes"])
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        assert referral.status == "withdrawn" and "victim" not in referral.details
        assert s.scalar(select(func.count()).select_from(ConsentRecord)) == 0
        bodies = s.scalars(select(Message.body).where(Message.direction == "in")).all()
        assert set(bodies) == {None}
        assert s.scalars(select(ErasureRecord)).one().referral_reference == "RJ-000001"


def test_older_keys_still_decrypt_after_rotation() -> None:
    old, new = new_fernet_key(), new_fernet_key()
    token = Vault([old], "s").encrypt("Sam")
    rotated = Vault([new, old], "s")
    assert rotated.decrypt(token) == "Sam"
    assert Vault([new], "s").decrypt(rotated.rotate(token)) == "Sam"


def test_lookup_hash_is_keyed() -> None:
    assert Vault([new_fernet_key()], "a").lookup_hash("x") != Vault(
        [new_fernet_key()], "b"
    ).lookup_hash("x")


def test_a_read_does_not_wait_for_a_write_in_progress(runtime: Runtime) -> None:
    """`Database.reading` takes no turn at the write lock: the worker's pre-send check must
    not queue behind the webhooks' writes (on SQLite they share a process-wide lock)."""
    converse(runtime.conversations, ["hi"])
    seen: list[int] = []
    with runtime.db.transaction() as writing:
        writing.execute(update(Conversation).values(last_activity_at=FROZEN_NOW))
        reader = threading.Thread(target=lambda: seen.append(_count(runtime)))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive() and seen == [1]


def _count(runtime: Runtime) -> int:
    """Conversations, read through `reading`."""
    with runtime.db.reading() as connection:
        return int(connection.execute(select(func.count(Conversation.id))).scalar_one())
