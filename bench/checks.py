"""After a phase: did every conversation reach the end, and is every referral there once?"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from bench.servers import Secrets
from case_store.conversations import address_hash
from case_store.crypto import Vault, install_vault
from case_store.db import Database
from case_store.models import Conversation, Message, OutboxItem, Referral


def check_conversations(
    url: str, keys: Secrets, channel: str, addresses: Iterable[str], since: datetime
) -> dict[str, Any]:
    """Count finished conversations, their referrals, and stored inbound messages."""
    install_vault(Vault([keys.encryption_key], keys.secret_key))
    db = Database(url)
    wanted = [address_hash(channel, a) for a in addresses]
    with db.transaction() as session:
        rows = session.execute(
            select(Conversation.status, Conversation.referral_id).where(
                Conversation.channel == channel, Conversation.address_hash.in_(wanted)
            )
        ).all()
        referrals = session.scalar(
            select(func.count()).where(Referral.channel == channel, Referral.created_at >= since)
        )
        inbound = session.scalar(
            select(func.count()).where(
                Message.channel == channel, Message.direction == "in", Message.created_at >= since
            )
        )
        pending = session.scalar(
            select(func.count()).where(OutboxItem.status.in_(["pending", "sending"]))
        )
    db.dispose()
    finished = [r for r in rows if r.status == "finished" and r.referral_id is not None]
    linked = {r.referral_id for r in finished}
    return {
        "expected": len(wanted),
        "found": len(rows),
        "finished_with_referral": len(finished),
        "distinct_referrals_linked": len(linked),
        "referrals_created": referrals,
        "inbound_messages_stored": inbound,
        "outbox_pending": pending,
        "ok": len(finished) == len(wanted) == len(linked) == referrals,
    }


def count_reference_rows(url: str) -> int:
    """Rows the reference app wrote."""
    db = Database(url)
    with db.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM inbound_sms")).scalar_one()
    db.dispose()
    return int(count)


def outbox_pending(url: str) -> int:
    """Outbox rows still waiting to be sent."""
    db = Database(url)
    with db.transaction() as session:
        count = session.scalar(
            select(func.count()).where(OutboxItem.status.in_(["pending", "sending"]))
        )
    db.dispose()
    return int(count or 0)
