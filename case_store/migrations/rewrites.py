"""What the data migrations share: rewriting stored values that hold personal data.

A revision writes out its own forms (the patterns it looks for and what each becomes), so it
keeps doing what it did if the app's forms change later. How the rows are found and written,
and how the service's keys are asked for, is the same for each.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa

from case_store.crypto import Vault, current_vault

BATCH = 1000


def service_vault(purpose: str) -> Vault:
    """The installed vault, or a clear error saying how to run the revision that needs it."""
    try:
        return current_vault()
    except RuntimeError as exc:
        raise RuntimeError(
            f"{purpose} and needs the service's keys: run it with `rj-frontdoor db upgrade` or "
            "`rj-frontdoor serve`, with RJ_SECRET_KEY and RJ_ENCRYPTION_KEYS set as for the "
            "service"
        ) from exc


def rewrite(
    connection: sa.Connection,
    query: str,
    table: sa.TableClause,
    column: str,
    patterns: tuple[re.Pattern[str], ...],
    convert: Callable[[Vault, str], str | None],
    purpose: str,
) -> int:
    """Rewrite each value the query finds that holds a plain id, in batches; how many changed.

    Plain ids are told by the patterns alone, so a database with none needs no keys; with
    some, `purpose` says in the error which revision needs them and why.
    """
    plain = [
        (int(row_id), str(value))
        for row_id, value in connection.execute(sa.text(query))
        if any(pattern.match(str(value)) for pattern in patterns)
    ]
    if not plain:
        return 0
    vault = service_vault(purpose)
    changes = [
        {"row_id": row_id, "value": new}
        for row_id, old in plain
        if (new := convert(vault, old)) is not None and new != old
    ]
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({column: sa.bindparam("value")})
    )
    for start in range(0, len(changes), BATCH):
        connection.execute(statement, changes[start : start + BATCH])
    return len(changes)
