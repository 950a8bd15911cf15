"""Helpers for the data-protection tests: every stored value, decrypted."""

from __future__ import annotations

from sqlalchemy import select

from case_store.db import Database
from case_store.models import Base

# What the happy path tells us, in the forms it may be stored or logged.
PERSONAL = ("Sam Quayle", "Quayle", "7700900123", "7700 900123", "CF0123450224", "brother Dave")


def decrypted_dump(db: Database) -> str:
    """Every value of every table, encrypted columns decrypted (with the installed keys)."""
    parts = []
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            parts.extend(str(value) for row in session.execute(select(table)) for value in row)
    return "\n".join(parts)


def personal_in(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Which personal values appear in `text`."""
    return [value for value in (*PERSONAL, *extra) if value in text]
