"""Key rotation: re-encrypt every encrypted column under the newest key, without downtime.

Rows are read and rewritten in small batches, one short transaction each. A row is only
rewritten if it still holds the token that was read (compare and swap), so a value the
running service wrote meanwhile (already under the newest key) is never overwritten.
Lookup hashes are keyed by RJ_SECRET_KEY, not by these keys, so they are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table, Text, literal, select, type_coerce, update
from sqlalchemy.orm import Session

from case_store.crypto import Vault
from case_store.db import Database
from case_store.models import Base
from case_store.types import EncryptedJSON, EncryptedText

BATCH = 200


@dataclass
class Rotated:
    """What happened to one column's values."""

    rotated: int = 0
    current: int = 0
    changed_meanwhile: int = 0


def encrypted_columns(metadata: MetaData = Base.metadata) -> Iterator[tuple[Table, Column]]:
    """Every (table, column) whose values are stored encrypted."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                yield table, column


def rotate_keys(db: Database, vault: Vault, batch: int = BATCH) -> dict[str, Rotated]:
    """Re-encrypt every stored value not yet under the newest key; counts per column."""
    return {
        f"{table.name}.{column.name}": rotate_column(db, vault, table, column, batch)
        for table, column in encrypted_columns()
    }


def rotate_column(
    db: Database,
    vault: Vault,
    table: Table,
    column: Column,
    batch: int = BATCH,
) -> Rotated:
    """Walk one column by primary key, a batch per transaction."""
    counts, last_id = Rotated(), 0
    while True:
        with db.transaction() as session:
            rows = session.execute(
                select(table.c.id, type_coerce(column, Text))
                .where(table.c.id > last_id, column.is_not(None))
                .order_by(table.c.id)
                .limit(batch)
            ).all()
            for row_id, token in rows:
                _rotate_one(session, vault, table, column, row_id, token, counts)
        if len(rows) < batch:
            return counts
        last_id = rows[-1][0]


def _rotate_one(
    session: Session,
    vault: Vault,
    table: Table,
    column: Column,
    row_id: int,
    token: str,
    counts: Rotated,
) -> None:
    """Rewrite one value under the newest key, unless it is current or changed meanwhile."""
    if vault.is_current(token):
        counts.current += 1
        return
    swap = (
        update(table)
        .where(table.c.id == row_id, type_coerce(column, Text) == token)
        .values({column.name: literal(vault.rotate(token), Text)})
    )
    if session.execute(swap).rowcount:  # type: ignore[attr-defined]
        counts.rotated += 1
    else:
        counts.changed_meanwhile += 1
