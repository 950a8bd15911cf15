"""API tokens: made once, shown once, stored as a hash, scoped and revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import ApiToken

SCOPES = (
    "referrals:read",
    "referrals:write",
    "volunteers:read",
    "volunteers:write",
    "conferences:read",
    "conferences:write",
)
TOKEN_PREFIX = "rjt_"  # noqa: S105 - a public marker, not a secret  # nosec B105


class ScopeError(ValueError):
    """A scope that does not exist was asked for."""


def _hash(token: str) -> str:
    """SHA-256 of a high-entropy token (a slow hash adds nothing here)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, name: str, scopes: list[str], now: datetime
) -> tuple[str, ApiToken]:
    """A new token and its row; the plain token is never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ScopeError(f"unknown scopes: {', '.join(unknown)}" if unknown else "no scope given")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=_hash(token),
        prefix=token[:10],
        scopes=" ".join(sorted(set(scopes))),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return token, row


def find_token(session: Session, token: str) -> ApiToken | None:
    """The live token row for a presented token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.token_hash, _hash(token)) else None


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    """Revoke a token by id; False when there is no such live token."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True
