"""indexes for the queue at size: (urgent, id) and (status, urgent, id) on referrals

The co-ordinator's queue is ordered urgent first, then newest (urgent, id), and filtered
by status; the API's list is ordered by id and filtered by status and urgency. With these
the first page of either reads about fifty index entries at 100,000 referrals instead of
sorting the table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_referrals_urgent_id", "referrals", ["urgent", "id"])
    op.create_index("ix_referrals_status_urgent_id", "referrals", ["status", "urgent", "id"])


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index("ix_referrals_status_urgent_id", table_name="referrals")
    op.drop_index("ix_referrals_urgent_id", table_name="referrals")
