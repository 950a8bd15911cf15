"""Idempotency-Key for API writes: a retried request answers as the first did, and acts once.

The first successful answer to a token's key is stored with a hash of the request; the same
key with the same request replays it, with another request it is a 409. Refusals are not
stored: they changed nothing, so a retry is judged afresh.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import IdempotencyRecord
from webhooks.errors import ApiError

MAX_KEY = 200


def idempotency_key() -> str:
    """The request's Idempotency-Key, trimmed; "" when it has none."""
    return request.headers.get("Idempotency-Key", "").strip()[:MAX_KEY]


def request_hash(scope: str = "") -> str:
    """A hash of the request's JSON, whatever its key order and spacing, and of `scope`.

    `scope` (the path, say) tells apart requests whose bodies alike mean different things.
    """
    canonical = json.dumps(request.get_json(silent=True), sort_keys=True)
    if scope:
        canonical = f"{scope}\n{canonical}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(session: Session, key: str, fingerprint: str) -> tuple[Response, int] | None:
    """The stored answer for this token's key; 409 when the key came with another request."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == g.token_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise ApiError(
            409, "idempotency_key_reused", "This Idempotency-Key was used with a different request."
        )
    return jsonify(record.body), record.status_code


def remember(
    session: Session, key: str, fingerprint: str, status: int, body: dict[str, Any], now: datetime
) -> None:
    """Store the answer to a key's first request, for its retries."""
    session.add(
        IdempotencyRecord(
            token_id=g.token_id,
            key=key,
            request_hash=fingerprint,
            status_code=status,
            body=body,
            created_at=now,
        )
    )
