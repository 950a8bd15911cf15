"""staff emails: whole in the audit trail and notes, and out of the outbox's dedupe keys

The audit trail (`audit_entries.actor`) and a note's author (`referral_notes.author`) name a
co-ordinator "staff:{login email}". A login's email may be 254 characters (staff_users.email),
so the name may be 260, where these columns held 120: on PostgreSQL a co-ordinator with a long
email could not log in, view a referral or change one. Both columns widen to 260.

An email to a co-ordinator was queued once per event and address under the dedupe key
"email:{event}:{address}", which no retention period clears. The app now writes a keyed hash
of the address instead (webhooks/notifications.py, `recipient_tag`); the rows already stored
are rewritten into the same form, so a notification made again after the upgrade still finds
its key and is not sent twice:

    outbox.dedupe_key  "email:{event}:{address}"  ->  "email:{event}:{tag}"

where tag is the first 32 hex characters of the vault's lookup HMAC of "email:{address}" (the
outbox's recipient hash). As for 0006, the vault must be installed to rewrite (`db upgrade` and
`serve` do), a database with nothing to rewrite migrates without it, and a rewritten key (no
"@" in it) is left alone, so this is safe to run twice.

Downgrade narrows the columns again; on PostgreSQL it fails, changing nothing, while a longer
name is stored, rather than cut an audit entry short. The keys stay hashed: a hash cannot give
the address back, and the older code reads them well enough.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from case_store.crypto import Vault
from case_store.migrations.rewrites import rewrite

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NARROW = 120
WIDE = 260  # len("staff:") + 254, written out so this revision keeps doing what it did
NAMES_OF_STAFF = (("audit_entries", "actor"), ("referral_notes", "author"))
TAG_CHARS = 32
PURPOSE = "migration 0007 replaces co-ordinators' addresses in outbox keys with keyed hashes"

_EMAIL_KEY = re.compile(r"^(email:.+):([^:@]+@[^:@]+)$")
_outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("dedupe_key"))


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


def new_email_key(vault: Vault, old: str) -> str | None:
    """The hashed form of an email's dedupe key; None when it holds no address."""
    found = _EMAIL_KEY.match(old)
    if found is None:
        return None
    return f"{found.group(1)}:{vault.lookup_hash(f'email:{found.group(2)}')[:TAG_CHARS]}"


def upgrade() -> None:
    """Apply this revision."""
    _resize(NARROW, WIDE)
    rewrite(
        op.get_bind(),
        "SELECT id, dedupe_key FROM outbox WHERE kind = 'email' AND dedupe_key LIKE '%@%'",
        _outbox,
        "dedupe_key",
        (_EMAIL_KEY,),
        new_email_key,
        PURPOSE,
    )


def downgrade() -> None:
    """Narrow the columns again; the keys stay hashed (a hash cannot give an address back)."""
    _resize(WIDE, NARROW)
