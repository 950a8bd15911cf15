"""The worker's claim at size: how long one claim takes with a backlog of unsent sends.

    .venv/bin/python -m bench.claim_timing                      # SQLite
    .venv/bin/python -m bench.claim_timing --db-url postgresql://postgres@127.0.0.1:5432/postgres

For each size: a fresh migrated database holding that many unsent sends (`--per-person` to
each recipient, all due at once, as after a provider outage) and five times as many already
sent; then `--claims` claims of 10, each rolled back so every one sees the same backlog.
Prints p50 and max milliseconds a claim, and checks each claim took the first send of ten
different people (or of everyone waiting, when fewer).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from bench.databases import Databases
from bench.load import percentile
from bench.servers import Secrets
from case_store.conversations import address_hash
from case_store.crypto import Vault, install_vault
from case_store.db import Database
from case_store.migrate import upgrade
from case_store.models import UNSENT, OutboxItem
from case_store.outbox import claim

BATCH = 5_000
SENT_PER_UNSENT = 5


def main(argv: list[str] | None = None) -> int:
    """Time claims at each backlog size; exit 1 if a claim took the wrong sends."""
    args = _parser().parse_args(argv)
    keys = Secrets.fresh()
    install_vault(Vault([keys.encryption_key], keys.secret_key))
    with tempfile.TemporaryDirectory(prefix="rj-claim-") as workdir:
        databases = Databases(args.db_url, Path(workdir))
        try:
            results = [
                _time_size(databases.fresh(f"claim{size}"), size, args) for size in args.sizes
            ]
        finally:
            databases.drop_all()
    return 0 if all(results) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.claim_timing", description=__doc__)
    parser.add_argument("--db-url", help="a PostgreSQL server URL (SQLite by default)")
    parser.add_argument(
        "--sizes", type=lambda s: [int(n) for n in s.split(",")], default=[500, 5_000, 20_000],
        help="unsent sends, comma-separated (default 500,5000,20000)",
    )  # fmt: skip
    parser.add_argument("--per-person", type=int, default=20, help="unsent sends a recipient")
    parser.add_argument("--claims", type=int, default=30, help="claims timed per size")
    return parser


def _time_size(url: str, size: int, args: argparse.Namespace) -> bool:
    """Seed one database, time the claims, print a line; whether every claim was right."""
    db = Database(url)
    upgrade(db.engine)
    now = datetime.now(UTC)
    with db.transaction() as session:
        for batch in _batches(_rows(size, args.per_person, now)):
            session.execute(insert(OutboxItem), batch)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE outbox"))
    seconds, right = [], True
    for _ in range(args.claims):
        with db.engine.connect() as connection, connection.begin() as transaction:
            session = Session(bind=connection)
            started = time.perf_counter()
            ids = claim(session, now, lease_seconds=60)
            seconds.append(time.perf_counter() - started)
            right &= _first_of_each(session, ids, min(10, -(-size // args.per_person)))
            transaction.rollback()
    db.dispose()
    seconds.sort()
    print(
        f"{db.engine.dialect.name:10} {size:>7,} unsent ({args.per_person} a person): "
        f"claim p50 {1000 * percentile(seconds, 0.5):.1f} ms, "
        f"max {1000 * seconds[-1]:.1f} ms{'' if right else '  WRONG SENDS CLAIMED'}"
    )
    return right


def _first_of_each(session: Session, ids: list[int], people: int) -> bool:
    """`people` sends (ten, or everyone waiting), to different people, each their first."""
    rows = session.execute(
        select(OutboxItem.id, OutboxItem.recipient_hash).where(OutboxItem.id.in_(ids))
    ).all()
    first = {
        row.recipient_hash: session.scalar(
            select(func.min(OutboxItem.id)).where(
                OutboxItem.recipient_hash == row.recipient_hash, OutboxItem.status.in_(UNSENT)
            )
        )
        for row in rows
    }
    right = all(first[row.recipient_hash] == row.id for row in rows)
    return len(ids) == people and len(first) == people and right


def _rows(unsent: int, per_person: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Sent history first (lower ids), then the backlog, `per_person` to each recipient."""
    sent = unsent * SENT_PER_UNSENT
    for i in range(sent + unsent):
        waiting = i >= sent
        person = (i - sent) // per_person if waiting else 1_000_000 + i // per_person
        phone = f"+4477009{person % 100_000:05d}{person // 100_000}"
        yield {
            "kind": "sms", "dedupe_key": f"bench:{i}", "recipient": phone,
            "recipient_hash": address_hash("sms", phone), "payload": {"body": "Hello"},
            "status": "pending" if waiting else "sent", "attempts": 0,
            "next_attempt_at": now - timedelta(minutes=5), "created_at": now,
            "sent_at": None if waiting else now,
        }  # fmt: skip


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


if __name__ == "__main__":
    raise SystemExit(main())
