"""staff emails: the audit trail and notes hold "staff:" and the longest login email

The audit trail (`audit_entries.actor`) and a note's author (`referral_notes.author`) name a
co-ordinator "staff:{login email}". A login's email may be 254 characters (staff_users.email),
so the name may be 260, where these columns held 120: on PostgreSQL a co-ordinator with a long
email could not log in, view a referral or change one. Both columns widen to 260.

Downgrade narrows them again. On PostgreSQL it fails, changing nothing, while a longer name is
stored: an audit entry is not cut short.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NARROW = 120
WIDE = 260  # len("staff:") + 254, written out so this revision keeps doing what it did
NAMES_OF_STAFF = (("audit_entries", "actor"), ("referral_notes", "author"))


def _resize(old: int, new: int) -> None:
    """Change the length of every column that names a member of staff."""
    for table, column in NAMES_OF_STAFF:
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table; others ALTER
            batch.alter_column(
                column,
                existing_type=sa.String(length=old),
                type_=sa.String(length=new),
                existing_nullable=False,
            )


def upgrade() -> None:
    """Apply this revision."""
    _resize(NARROW, WIDE)


def downgrade() -> None:
    """Undo this revision."""
    _resize(WIDE, NARROW)
