"""/api/v1: the intake for agency referrals, the queue, one referral, and board figures."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from spectree import Response as Resp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from case_store.audit import audit, audit_many
from case_store.intake import ReferralIn, submit
from case_store.models import Referral, ReferralNote
from case_store.references import unique_reference
from case_store.referrals import find_referral
from case_store.stats import board_figures, local_days
from webhooks.api_schemas import (
    Created,
    ErrorBody,
    ListQuery,
    ReferralOut,
    ReferralPage,
    ReferralPatch,
    Stats,
    StatsQuery,
)
from webhooks.auth import require_scope
from webhooks.casework import change_referral
from webhooks.errors import ApiError
from webhooks.idempotency import idempotency_key, remember, replay, request_hash
from webhooks.openapi import openapi_document, spec
from webhooks.runtime import current_runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ERRORS = {
    "HTTP_400": ErrorBody,
    "HTTP_401": ErrorBody,
    "HTTP_403": ErrorBody,
    "HTTP_422": ErrorBody,
}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document."""
    return jsonify(openapi_document())


# -- intake -------------------------------------------------------------------------------
@bp.post("/referrals")
@require_scope("referrals:write")
@spec.validate(
    json=ReferralIn, resp=Resp(HTTP_201=Created, HTTP_409=ErrorBody, **ERRORS), tags=["referrals"]
)
def create_referral() -> tuple[Response, int]:
    """Accept a referral from the Victims' Hub, police or a partner agency."""
    record: ReferralIn = request.context.json  # type: ignore[attr-defined]
    key, fingerprint = idempotency_key(), request_hash()
    runtime = current_runtime()
    try:
        with runtime.db.transaction() as session:
            return _create_once(session, record, key, fingerprint)
    except IntegrityError:  # the same key raced in from a retry: answer as the first did
        with runtime.db.transaction() as session:
            replayed = replay(session, key, fingerprint)
            return replayed or _create_once(session, record, key, fingerprint)


def _create_once(
    session: Session, record: ReferralIn, key: str, fingerprint: str
) -> tuple[Response, int]:
    """Store the referral, or replay the first answer for a repeated Idempotency-Key."""
    if key and (replayed := replay(session, key, fingerprint)):
        return replayed
    now = current_runtime().conversations.clock()
    reference = unique_reference(session, current_runtime().conversations.make_reference)
    referral = submit(session, record, reference=reference, now=now, channel="api")
    body = Created(reference=referral.reference, status="new", created_at=now).model_dump(
        mode="json"
    )
    if key:
        remember(session, key, fingerprint, 201, body, now)
    audit(session, g.actor, "created", referral.reference, now, f"source={referral.source}")
    current_runtime().notifier.new_referral(session, referral, now)
    session.flush()
    return jsonify(body), 201


# -- the queue --------------------------------------------------------------------------------
@bp.get("/referrals")
@require_scope("referrals:read")
@spec.validate(query=ListQuery, resp=Resp(HTTP_200=ReferralPage, **ERRORS), tags=["referrals"])
def list_referrals() -> Response:
    """The queue, newest first, filtered and paged by cursor."""
    query: ListQuery = request.context.query  # type: ignore[attr-defined]
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        rows = list(session.scalars(_queue_query(query).limit(query.limit + 1)))
        page, more = rows[: query.limit], len(rows) > query.limit
        now = runtime.conversations.clock()
        audit_many(session, g.actor, "listed", [row.reference for row in page], now)
        notes = notes_by_referral(session, [row.id for row in page])
        items = [referral_json(session, row, notes.get(row.id, [])) for row in page]
    cursor = _encode_cursor(page[-1].id) if more and page else None
    return jsonify({"items": items, "next_cursor": cursor})


def _queue_query(query: ListQuery) -> Any:
    """The SELECT for a page of the queue."""
    stmt = select(Referral).order_by(Referral.id.desc())
    if query.status:
        stmt = stmt.where(Referral.status == query.status)
    if query.source:
        stmt = stmt.where(Referral.source == query.source)
    if query.urgent is not None:
        stmt = stmt.where(Referral.urgent.is_(query.urgent))
    if query.since:
        stmt = stmt.where(Referral.created_at >= query.since)
    if query.cursor:
        stmt = stmt.where(Referral.id < _decode_cursor(query.cursor))
    return stmt


def _encode_cursor(last_id: int) -> str:
    """A cursor: where the next page starts (the queue is ordered by id, newest first)."""
    return f"c{last_id}"


def _decode_cursor(cursor: str) -> int:
    """The id behind a cursor (its shape is checked by the query schema)."""
    return int(cursor[1:])


# -- one referral -----------------------------------------------------------------------------
def _load(session: Session, reference: str, *, lock: bool = False) -> Referral:
    """The referral (locked, to change it), or a 404."""
    referral = find_referral(session, reference, lock=lock)
    if referral is None:
        raise ApiError(404, "not_found", f"No referral {reference}.")
    return referral


@bp.get("/referrals/<reference>")
@require_scope("referrals:read")
@spec.validate(resp=Resp(HTTP_200=ReferralOut, HTTP_404=ErrorBody, **ERRORS), tags=["referrals"])
def get_referral(reference: str) -> Response:
    """One referral, with its notes."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = _load(session, reference)
        audit(session, g.actor, "viewed", reference, runtime.conversations.clock())
        return jsonify(referral_json(session, referral))


@bp.patch("/referrals/<reference>")
@require_scope("referrals:write")
@spec.validate(
    json=ReferralPatch,
    resp=Resp(HTTP_200=ReferralOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, **ERRORS),
    tags=["referrals"],
)
def patch_referral(reference: str) -> Response:
    """Move a referral along its lifecycle and/or add a note."""
    change: ReferralPatch = request.context.json  # type: ignore[attr-defined]
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = _load(session, reference, lock=True)
        now = runtime.conversations.clock()
        change_referral(session, referral, g.actor, change.status, change.note, now, runtime.desk)
        return jsonify(referral_json(session, referral))


def notes_by_referral(session: Session, ids: list[int]) -> dict[int, list[ReferralNote]]:
    """The notes of several referrals in one query, oldest first, by referral id."""
    found: dict[int, list[ReferralNote]] = {}
    if ids:
        query = select(ReferralNote).where(ReferralNote.referral_id.in_(ids))
        for note in session.scalars(query.order_by(ReferralNote.id)):
            found.setdefault(note.referral_id, []).append(note)
    return found


def referral_json(
    session: Session, referral: Referral, notes: list[ReferralNote] | None = None
) -> dict[str, Any]:
    """A referral as the API shows it (its notes read here unless given)."""
    details = dict(referral.details or {})
    if notes is None:
        notes = notes_by_referral(session, [referral.id]).get(referral.id, [])
    return {
        **{k: v for k, v in details.items() if k not in {"source", "channel", "urgent"}},
        "reference": referral.reference,
        "source": referral.source,
        "channel": referral.channel,
        "status": referral.status,
        "urgent": referral.urgent,
        "specialist": referral.specialist,
        "created_at": referral.created_at.isoformat(),
        "updated_at": referral.updated_at.isoformat(),
        "first_contact_at": referral.first_contact_at.isoformat()
        if referral.first_contact_at
        else None,
        "notes": [
            {"author": n.author, "text": n.text, "created_at": n.created_at.isoformat()}
            for n in notes
        ],
    }


# -- figures ----------------------------------------------------------------------------------
@bp.get("/stats")
@require_scope("referrals:read")
@spec.validate(query=StatsQuery, resp=Resp(HTTP_200=Stats, **ERRORS), tags=["stats"])
def stats() -> Response:
    """The board figures for a period."""
    query: StatsQuery = request.context.query  # type: ignore[attr-defined]
    runtime = current_runtime()
    period = local_days(query.from_, query.to, runtime.profile.zone)
    with runtime.db.transaction() as session:
        now = runtime.conversations.clock()
        return jsonify(board_figures(session, period, now))
