"""a partial index on each recipient's unsent sends, for the worker's claim

The worker may send only a recipient's first unsent send (so a person's messages arrive in
order). It found those by grouping every unsent row by recipient, which read the whole
backlog on every claim. With `(recipient_hash, id) WHERE status IN ('pending', 'sending')`
the claim steps from one waiting recipient to the next instead.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNSENT_SQL = "status IN ('pending', 'sending')"  # as case_store.models.UNSENT_SQL, frozen here


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        "ix_outbox_unsent_recipient",
        "outbox",
        ["recipient_hash", "id"],
        sqlite_where=sa.text(UNSENT_SQL),
        postgresql_where=sa.text(UNSENT_SQL),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_outbox_unsent_recipient", table_name="outbox")
