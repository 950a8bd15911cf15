"""Growth: fill a migrated database with realistic history, through the app's column types
(so personal fields are Fernet-encrypted and addresses hashed as the service does)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bench.scripts import load_turns
from bench.servers import Secrets
from case_store.conversations import address_hash
from case_store.crypto import Vault, install_vault
from case_store.db import Database
from case_store.migrate import upgrade
from case_store.models import ConsentRecord, Conversation, Message, Referral

BATCH = 5_000
# History is spread over the 40 days before the run: inside the shortest retention period
# (42 days), so the worker's start-up purge finds nothing to do, as in a service whose daily
# purge has kept up. Older history would be anonymised rows, which cost the same to scan.
SPAN = timedelta(days=40)
CONSENTS = ("privacy", "contact", "police_check", "voluntary", "withdraw", "share", "follow_up")
STATUSES = ("new", "contacted", "assessing", "conference_scheduled", "completed", "closed")
REPLY = "Thanks. We have noted that. The next question is below; reply HELP or STOP any time."


def seed(url: str, keys: Secrets, messages: int, referrals: int) -> dict[str, Any]:
    """Migrate, then insert about `messages` messages and `referrals` referrals."""
    install_vault(Vault([keys.encryption_key], keys.secret_key))
    db = Database(url)
    upgrade(db.engine)
    started, rng = time.perf_counter(), random.Random(9)  # noqa: S311 - test data
    per_conversation = 2 * len(load_turns("happy_path_sms"))
    conversations = max(1, messages // per_conversation)
    self_referrals = min(referrals, conversations // 2)
    end = datetime.now(UTC) - timedelta(hours=1)
    with db.transaction() as session:
        _insert(session, Referral, _referrals(referrals, self_referrals, end, rng))
        _insert(session, Conversation, _conversations(conversations, self_referrals, end))
        _insert(session, Message, _messages(messages, conversations, per_conversation, end))
        _insert(session, ConsentRecord, _consents(self_referrals, end))
        if not db.is_sqlite:
            _advance_sequences(session)
    if not db.is_sqlite:
        _vacuum(db)
    db.dispose()
    return {
        "messages": messages,
        "referrals": referrals,
        "conversations": conversations,
        "consent_records": self_referrals * len(CONSENTS),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _insert(session: Session, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    """Bulk insert with SQLAlchemy Core, in batches (column types still apply)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            session.execute(insert(model.__table__), batch)
            batch = []
    if batch:
        session.execute(insert(model.__table__), batch)


def _vacuum(db: Database) -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum would have done while the history grew.

    Straight after a bulk load the planner has no statistics and the visibility map is
    empty (no index-only scans): a state a live database is not in. SQLite gets nothing:
    nobody runs ANALYZE on the service's file, so the bench does not either.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _advance_sequences(session: Session) -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly."""
    for model in (Referral, Conversation, Message, ConsentRecord):
        table = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        )


def _when(index: int, total: int, end: datetime) -> datetime:
    """Times rising with the id, as in a real table."""
    return end - SPAN + SPAN * (index / max(1, total))


def _reference(index: int) -> str:
    """A unique reference for a seeded referral (a bijection onto six base-36 digits)."""
    number, digits = (index * 1_000_003) % 36**6, ""
    for _ in range(6):
        number, digit = divmod(number, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + digits
    return f"RJ-{digits}"


def _referrals(total: int, self_made: int, end: datetime, rng: random.Random) -> Iterator[dict]:
    """Referrals: the first `self_made` from conversations, the rest from agencies."""
    for i in range(1, total + 1):
        own = i <= self_made
        source = "self" if own else rng.choice(("victims_hub", "police", "partner_agency"))
        channel = ("sms" if i % 3 else "telegram") if own else "api"
        when = _when(i, total, end)
        yield {
            "id": i, "reference": _reference(i), "source": source, "channel": channel,
            "status": rng.choice(STATUSES), "urgent": rng.random() < 0.05,
            "specialist": rng.random() < 0.15, "details": _details(i, source, channel, when),
            "created_at": when, "updated_at": when, "first_contact_at": None,
        }  # fmt: skip


def _details(i: int, source: str, channel: str, when: datetime) -> dict[str, Any]:
    """What a referral's encrypted details hold."""
    details: dict[str, Any] = {
        "source": source, "channel": channel, "urgent": False, "flags": [],
        "victim": {"name": f"Person {i}", "phone": "+447700900123", "preferred_contact": "text",
                   "safe_times": ["weekday_day", "weekend"], "may_identify_service": True,
                   "language": "en", "age_band": "adult", "access_needs": None},
        "offence": {"type": "burglary", "date": "over_year", "reported_to_police": "yes",
                    "crime_reference": f"CF{i:010d}", "person_known": True,
                    "relationship": "neighbour"},
        "hopes": ["conference", "letters"],
        "consent": {"given": True, "method": channel, "recorded_at": when.isoformat(),
                    "items": {item: True for item in CONSENTS}},
    }  # fmt: skip
    if source != "self":
        details["referrer"] = {"name": "Officer", "organisation": "Cambridgeshire Constabulary"}
        details["notes"] = "Victim would like to hear from the service by text."
    return details


def _conversations(total: int, with_referral: int, end: datetime) -> Iterator[dict[str, Any]]:
    """Conversations: half finished with a referral, half abandoned part way."""
    for i in range(1, total + 1):
        channel = "sms" if i % 3 else "telegram"
        address = f"seed-{i}"  # synthetic: never a real number, never one the bench texts from
        finished = i <= with_referral
        when = _when(i, total, end)
        yield {
            "id": i, "channel": channel, "address_hash": address_hash(channel, address),
            "address": address, "flow": "self_referral",
            "step": None if finished else "offence_type",
            "status": "finished" if finished else "active", "state": _state(finished, i),
            "language": "en", "opted_out": False, "urgent": False,
            "referral_id": i if finished else None, "created_at": when,
            "last_activity_at": when,
        }  # fmt: skip


def _state(finished: bool, i: int) -> dict[str, Any]:
    """A conversation state of realistic size."""
    answers = {f"q{n}": "yes" for n in range(24)} | {"name": f"Person {i}"}
    return {
        "flow": "self_referral", "version": 1, "step": None if finished else "offence_type",
        "status": "finished" if finished else "active", "answers": answers,
        "history": list(answers)[:20], "flags": [], "resume_step": None, "returning_to": None,
        "pending": None, "opted_out": False, "urgent": False,
        "reference": _reference(i) if finished else None, "failed_attempts": 0,
    }  # fmt: skip


def _messages(total: int, conversations: int, per: int, end: datetime) -> Iterator[dict]:
    """Messages in and out, in conversation order, bodies from the golden transcript."""
    sends = [t.text for t in load_turns("happy_path_sms")]
    for i in range(1, total + 1):
        conversation = min(conversations, (i - 1) // per + 1)
        inbound, when = i % 2 == 1, _when(i, total, end)
        channel = "sms" if conversation % 3 else "telegram"
        yield {
            "id": i, "conversation_id": conversation, "direction": "in" if inbound else "out",
            "channel": channel, "channel_message_id": f"seed{i}" if inbound else None,
            "body": sends[(i // 2) % len(sends)] if inbound else REPLY,
            "status": "received" if inbound else "sent", "error_code": None,
            "created_at": when, "updated_at": when,
        }  # fmt: skip


def _consents(self_made: int, end: datetime) -> Iterator[dict[str, Any]]:
    """Seven consent records per self-referral."""
    for i in range(1, self_made + 1):
        for item in CONSENTS:
            yield {
                "referral_id": i, "conversation_id": i, "subject_id": f"{i:032x}",
                "channel": "sms" if i % 3 else "telegram", "item": item,
                "wording": f"I agree: {item}.", "wording_hash": f"{i:064x}",
                "notice_version": "2026-01", "answer": "yes",
                "answered_at": _when(i, self_made, end),
            }  # fmt: skip
