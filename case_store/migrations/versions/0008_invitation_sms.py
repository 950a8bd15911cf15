"""invitation_sms: which invitation each SMS to or from a volunteer was about

What volunteers are sent about a conference carries its time and venue; erasing a referral now
blanks it (case_store/conference_sends.py). So each send queued for a volunteer (an invitation,
nudge, reminder, move or cancellation), and each answer of theirs and reply of ours stored as a
message, is linked to its invitation here (a reply listing several, "which one do you mean?",
to each of them).

Sends queued before this revision are linked from their dedupe keys, which the app wrote as
"{what}:{invitation id}:{start}" (webhooks/conferencing.py), written out below so this revision
keeps doing what it did. Messages stored before it say nothing of their invitation and stay
unlinked: the retention period for message bodies removes their text.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VOLUNTEER_KEY = re.compile(r"^(?:invite|reminder|nudge|cancelled|moved.+?):(\d+):\d{4}-\d\d-\d\dT")
_links = sa.table(
    "invitation_sms",
    sa.column("invitation_id", sa.Integer),
    sa.column("outbox_id", sa.Integer),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "invitation_sms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invitation_sms_invitation_id", "invitation_sms", ["invitation_id"])
    _link_queued_sends(op.get_bind())


def _link_queued_sends(connection: sa.Connection) -> None:
    """Link each volunteer send already queued to the invitation its dedupe key names."""
    invitations = set(connection.scalars(sa.text("SELECT id FROM invitations")))
    sends = connection.execute(
        sa.text("SELECT id, dedupe_key FROM outbox WHERE kind = 'sms' AND conversation_id IS NULL")
    )
    links = [
        {"invitation_id": int(found.group(1)), "outbox_id": int(send_id)}
        for send_id, key in sends
        if (found := VOLUNTEER_KEY.match(str(key))) and int(found.group(1)) in invitations
    ]
    if links:
        connection.execute(sa.insert(_links), links)


def downgrade() -> None:
    """Undo this revision: the links go."""
    op.drop_index("ix_invitation_sms_invitation_id", table_name="invitation_sms")
    op.drop_table("invitation_sms")
