"""Small helpers shared by tests: whole conversations, raw table dumps, column lengths."""

from __future__ import annotations

from sqlalchemy import String, text

from bot.service import ConversationService, Inbound, Outcome
from case_store.db import Database
from case_store.models import Base

HAPPY_PATH = [
    "hi",
    "yes",
    "yes",
    "yes",
    "1",
    "yes",
    "yes",
    "CF0123450224",
    "2",
    "3",
    "yes",
    "2",
    "no",
    "1 2",
    "no",
    "Sam Quayle",
    "1",
    "1",
    "1 3",
    "1",
    "my brother Dave",
    "1",
    "1",
    "skip",
    "no",
    "yes",
    "yes",
    "yes",
    "yes",
    "yes",
    "no",
    "yes",
    "1",
]


def converse(
    service: ConversationService,
    sends: list[str],
    *,
    channel: str = "sms",
    address: str = "+447700900123",
    prefix: str = "m",
) -> list[Outcome]:
    """Send each text in turn, with unique message ids."""
    return [
        service.handle(Inbound(channel, address, text, message_id=f"{prefix}{n}"))
        for n, text in enumerate(sends)
    ]


def raw_dump(db: Database) -> str:
    """Every stored value of every table, as the database holds it."""
    parts: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def string_length(model: type[Base], column: str) -> int:
    """The length a model declares for one of its string columns (String(n))."""
    column_type = model.__table__.c[column].type
    assert isinstance(column_type, String) and column_type.length is not None, column_type
    return column_type.length
