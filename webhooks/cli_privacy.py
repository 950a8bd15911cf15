"""Data-protection commands: `purge` (retention) and `keys rotate` (encryption at rest)."""

from __future__ import annotations

import click

from case_store.crypto import current_vault
from case_store.rekey import rotate_keys
from case_store.retention import KINDS
from webhooks.config import load_settings
from webhooks.runtime import build_runtime, purge_expired


@click.command()
def purge() -> None:
    """Apply the retention policy: remove personal data past the profile's periods."""
    runtime = build_runtime(load_settings())
    counts = purge_expired(runtime, runtime.conversations.clock())
    for kind, label in KINDS.items():
        click.echo(f"{label}: {counts.get(kind, 0)}")
    click.echo(f"personal data removed from {sum(counts.values())} records")


@click.group()
def keys() -> None:
    """Encryption keys (RJ_ENCRYPTION_KEYS, newest first)."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored value under the newest key, in short batches, while serving."""
    settings = load_settings()
    runtime = build_runtime(settings)
    if len(settings.encryption_keys) < 2:
        click.echo("only one key is configured: put the new key first in RJ_ENCRYPTION_KEYS")
    results = rotate_keys(runtime.db, current_vault())
    for column, counts in results.items():
        meanwhile = counts.changed_meanwhile
        click.echo(
            f"{column}: {counts.rotated} re-encrypted, {counts.current} already current"
            + (f", {meanwhile} changed meanwhile" if meanwhile else "")
        )
    rotated = sum(c.rotated for c in results.values())
    pending = sum(c.changed_meanwhile for c in results.values())
    click.echo(f"{rotated} values re-encrypted under the newest key")
    if pending:
        click.echo("some values changed while rotating: run `keys rotate` again to check them")
