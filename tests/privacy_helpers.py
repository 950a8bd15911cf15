"""Helpers for the data-protection tests: every stored value, decrypted; a conference."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import JSON, String, Text, select, type_coerce
from sqlalchemy.types import TypeDecorator, TypeEngine

from case_store.db import Database
from case_store.models import Base, Referral
from case_store.volunteers import add_volunteer
from tests.conftest import FrozenClock
from webhooks.casework import schedule_conference
from webhooks.runtime import Runtime

# What the happy path tells us, in the forms it may be stored or logged.
PERSONAL = ("Sam Quayle", "Quayle", "7700900123", "7700 900123", "CF0123450224", "brother Dave")


def decrypted_dump(db: Database) -> str:
    """Every value of every table, encrypted columns decrypted (with the installed keys)."""
    parts: list[str] = []
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            parts.extend(str(value) for row in session.execute(select(table)) for value in row)
    return "\n".join(parts)


def personal_in(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Which personal values appear in `text`."""
    return [value for value in (*PERSONAL, *extra) if value in text]


def _is_text(column_type: TypeEngine[object]) -> bool:
    """True for a column stored as text or JSON (an encrypted column is text underneath)."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return isinstance(column_type, String | JSON)


def raw_text_values(db: Database) -> dict[str, list[str]]:
    """Every value of every text column of every table, as stored (encrypted ones encrypted).

    Keyed "table.column"; the columns come from the models' metadata, so a new table or
    column is scanned without changing this.
    """
    found: dict[str, list[str]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [column for column in table.columns if _is_text(column.type)]
            if not columns:
                continue
            raw = [type_coerce(column, Text()).label(column.name) for column in columns]
            for row in connection.execute(select(*raw).select_from(table)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        found.setdefault(f"{table.name}.{column.name}", []).append(str(value))
    return found


def columns_holding(values: dict[str, list[str]], plain_id: str | int) -> dict[str, list[str]]:
    """The columns with a value holding `plain_id` as a whole number (not inside another)."""
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(str(plain_id))}(?![0-9A-Za-z])")
    return {
        name: hits
        for name, column_values in values.items()
        if (hits := [value for value in column_values if pattern.search(value)])
    }


VENUE = "Parkside"


def schedule(runtime: Runtime, clock: FrozenClock) -> None:
    """A conference for the only referral in three days' time, with one volunteer."""
    with runtime.db.transaction() as s:
        volunteer = add_volunteer(
            s, name="Bea", phone="+447700900202", active=True, skills=[], now=clock()
        )
        assert volunteer is not None
        reference = s.scalars(select(Referral.reference)).one()
        schedule_conference(
            s,
            runtime,
            "staff:1",
            reference=reference,
            starts_at=clock() + timedelta(days=3),
            venue=VENUE,
            volunteer_ids=[volunteer.id],
            min_facilitators=1,
        )
