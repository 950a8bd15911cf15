"""Encryption at rest (Fernet, rotating keys) and keyed hashes for lookups."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class VaultError(ValueError):
    """A configured key is missing or malformed."""


class Vault:
    """Encrypts with the newest key, decrypts with any, hashes lookups with a stable key."""

    def __init__(self, fernet_keys: Sequence[str], lookup_secret: str) -> None:
        """Build from Fernet keys (newest first) and the secret that keys lookup hashes."""
        if not fernet_keys:
            raise VaultError("at least one encryption key is needed")
        try:
            fernets = [Fernet(key.strip()) for key in fernet_keys]
        except ValueError as exc:
            raise VaultError("an encryption key is not a valid Fernet key") from exc
        self._newest, self._fernet = fernets[0], MultiFernet(fernets)
        self._lookup_key = hashlib.sha256(
            b"rj-frontdoor lookup\x00" + lookup_secret.encode()
        ).digest()

    def encrypt(self, plain: str) -> str:
        """Encrypt text under the newest key."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt text written under any configured key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise VaultError("stored data cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored token under the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise VaultError("stored data cannot be decrypted with the configured keys") from exc

    def is_current(self, token: str) -> bool:
        """True when a stored token was written under the newest key."""
        try:
            self._newest.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def lookup_hash(self, value: str) -> str:
        """A keyed hash for finding a record by a personal value without storing it plainly."""
        return hmac.new(self._lookup_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_fernet_key() -> str:
    """A fresh Fernet key as text."""
    return Fernet.generate_key().decode("ascii")


_current: Vault | None = None


def install_vault(vault: Vault) -> None:
    """Make `vault` the one the encrypted column type uses in this process."""
    global _current
    _current = vault


def current_vault() -> Vault:
    """The vault installed for this process."""
    if _current is None:
        raise RuntimeError("no encryption keys configured: call install_vault() first")
    return _current
