"""`keys rotate`: data written under an old key is re-encrypted under the newest one, so the
old key can be removed from the settings and everything still reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import Table, Text, select, type_coerce, update

from case_store.crypto import Vault, VaultError, new_fernet_key
from case_store.models import Conference, Referral, ReferralNote
from case_store.rekey import Rotated, _rotate_one, encrypted_columns, rotate_keys
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH, converse
from tests.privacy_helpers import decrypted_dump
from webhooks.cli import main
from webhooks.runtime import Runtime


def rotate(environ: dict[str, str], keys: str) -> str:
    """Run `rj-frontdoor keys rotate` with RJ_ENCRYPTION_KEYS set to `keys`; its output."""
    result = CliRunner().invoke(
        main,
        ["keys", "rotate"],
        env={**environ, "RJ_ENCRYPTION_KEYS": keys},
        catch_exceptions=False,
    )
    assert result.exit_code == 0
    return result.stdout


def write_everything(runtime: Runtime, clock: FrozenClock) -> None:
    """A referral with its chat, messages, consents, email, a note and a conference."""
    converse(runtime.conversations, HAPPY_PATH)
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        s.add(ReferralNote(referral_id=referral.id, author="co", text="rang", created_at=clock()))
        s.add(
            Conference(
                referral_id=referral.id,
                starts_at=clock(),
                venue="Library",
                created_at=clock(),
                updated_at=clock(),
            )
        )


def test_rotate_then_drop_the_old_key(
    make_runtime: Callable[..., Runtime], clock: FrozenClock, environ: dict[str, str]
) -> None:
    old, new = new_fernet_key(), new_fernet_key()
    write_everything(make_runtime(RJ_ENCRYPTION_KEYS=old), clock)
    output = rotate(environ, f"{new},{old}")
    assert "conversations.address: 1 re-encrypted, 0 already current" in output
    assert "referral_notes.text: 1 re-encrypted" in output
    assert "conferences.venue: 1 re-encrypted" in output
    assert "0 values re-encrypted" in rotate(environ, f"{new},{old}")  # nothing left to do

    only_new = make_runtime(RJ_ENCRYPTION_KEYS=new)
    assert "Sam Quayle" in decrypted_dump(only_new.db)
    with only_new.db.transaction() as s:
        assert s.scalars(select(Referral)).one().details["victim"]["name"] == "Sam Quayle"


def test_every_encrypted_column_is_walked() -> None:
    walked = {f"{t.name}.{c.name}" for t, c in encrypted_columns()}
    assert {
        "conversations.state",
        "messages.body",
        "referrals.details",
        "outbox.payload",
        "volunteers.phone",
        "idempotency_records.body",
    } <= walked


def test_a_value_changed_meanwhile_is_left_alone(
    make_runtime: Callable[..., Runtime], clock: FrozenClock
) -> None:
    old, new = new_fernet_key(), new_fernet_key()
    write_everything(make_runtime(RJ_ENCRYPTION_KEYS=old), clock)
    runtime = make_runtime(RJ_ENCRYPTION_KEYS=f"{new},{old}")
    notes = ReferralNote.__table__
    assert isinstance(notes, Table)  # a mapped class's table, typed as any FromClause
    with runtime.db.transaction() as s:
        read = s.execute(select(notes.c.id, type_coerce(notes.c.text, Text))).one()
        s.execute(update(ReferralNote).values(text="rang again"))  # the service writes
    counts = Rotated()
    with runtime.db.transaction() as s:
        _rotate_one(s, Vault([new, old], "s"), notes, notes.c.text, read[0], read[1], counts)
    assert (counts.rotated, counts.changed_meanwhile) == (0, 1)
    with runtime.db.transaction() as s:
        assert s.scalars(select(ReferralNote.text)).one() == "rang again"


def test_an_unknown_key_is_a_clear_error(
    make_runtime: Callable[..., Runtime], clock: FrozenClock
) -> None:
    write_everything(make_runtime(RJ_ENCRYPTION_KEYS=new_fernet_key()), clock)
    runtime = make_runtime(RJ_ENCRYPTION_KEYS=new_fernet_key())
    with pytest.raises(VaultError):
        rotate_keys(runtime.db, Vault([new_fernet_key()], "s"))
    runtime.db.dispose()
