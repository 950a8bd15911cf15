"""/api/v1 volunteers and conferences: invitations go out by SMS through the outbox; outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from spectree import Response as Resp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.conferences import confirmed_count
from case_store.models import Conference, Referral, Volunteer
from case_store.referrals import find_referral
from case_store.volunteers import add_volunteer, all_volunteers
from webhooks.api_schemas import (
    ConferenceChange,
    ConferenceIn,
    ConferenceOut,
    ErrorBody,
    OutcomeIn,
    VolunteerIn,
    VolunteerList,
    VolunteerOut,
)
from webhooks.auth import require_scope
from webhooks.casework import checked_start, record_conference_outcome, schedule_conference
from webhooks.errors import ApiError
from webhooks.idempotency import idempotency_key, remember, replay, request_hash
from webhooks.openapi import spec
from webhooks.runtime import current_runtime

bp = Blueprint("api_conferences", __name__, url_prefix="/api/v1")
ERRORS = {
    "HTTP_400": ErrorBody,
    "HTTP_401": ErrorBody,
    "HTTP_403": ErrorBody,
    "HTTP_422": ErrorBody,
}


def _now() -> datetime:
    """The service clock."""
    return current_runtime().conversations.clock()


# -- volunteers ------------------------------------------------------------------------------
def volunteer_json(volunteer: Volunteer) -> dict[str, Any]:
    """A volunteer as the API shows them."""
    return {
        "id": volunteer.id,
        "name": volunteer.name,
        "phone": volunteer.phone,
        "active": volunteer.active,
        "skills": volunteer.skills,
        "created_at": volunteer.created_at.isoformat(),
    }


@bp.post("/volunteers")
@require_scope("volunteers:write")
@spec.validate(
    json=VolunteerIn,
    resp=Resp(HTTP_201=VolunteerOut, HTTP_409=ErrorBody, **ERRORS),
    tags=["volunteers"],
)
def create_volunteer() -> tuple[Response, int]:
    """Add a volunteer facilitator."""
    body: VolunteerIn = request.context.json  # type: ignore[attr-defined]
    with current_runtime().db.transaction() as session:
        volunteer = add_volunteer(
            session,
            name=body.name,
            phone=body.phone,
            active=body.active,
            skills=body.skills,
            now=_now(),
        )
        if volunteer is None:
            raise ApiError(409, "duplicate", "A volunteer with this phone number exists.")
        return jsonify(volunteer_json(volunteer)), 201


@bp.get("/volunteers")
@require_scope("volunteers:read")
@spec.validate(resp=Resp(HTTP_200=VolunteerList, **ERRORS), tags=["volunteers"])
def list_volunteers() -> Response:
    """Every volunteer, in the order they were added."""
    with current_runtime().db.transaction() as session:
        return jsonify({"items": [volunteer_json(v) for v in all_volunteers(session)]})


# -- conferences -----------------------------------------------------------------------------
def conference_json(session: Session, conference: Conference) -> dict[str, Any]:
    """A conference with each invitation's state and history."""
    referral = session.get_one(Referral, conference.referral_id)
    return {
        "id": conference.id,
        "referral": referral.reference,
        "starts_at": conference.starts_at.isoformat(),
        "venue": conference.venue,
        "status": conference.status,
        "min_facilitators": conference.min_facilitators,
        "confirmed": confirmed_count(conference),
        "invitations": [
            {
                "volunteer": i.volunteer_id,
                "status": i.status,
                "code": i.code,
                "changed_at": i.status_changed_at.isoformat(),
                "history": [{"status": e.status, "at": e.at.isoformat()} for e in i.events],
            }
            for i in conference.invitations
        ],
    }


@bp.post("/conferences")
@require_scope("conferences:write")
@spec.validate(json=ConferenceIn, resp=Resp(HTTP_201=ConferenceOut, **ERRORS), tags=["conferences"])
def create() -> tuple[Response, int]:
    """Arrange a conference and invite each volunteer by SMS."""
    body: ConferenceIn = request.context.json  # type: ignore[attr-defined]
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        conference = schedule_conference(
            session,
            runtime,
            g.actor,
            reference=body.referral,
            starts_at=body.starts_at,
            venue=body.venue,
            volunteer_ids=body.volunteers,
            min_facilitators=body.min_facilitators,
        )
        return jsonify(conference_json(session, conference)), 201


def _load(session: Session, conference_id: int, *, lock: bool = False) -> Conference:
    """A conference (locked, to change it), or a 404."""
    conference = session.get(Conference, conference_id, with_for_update=lock or None)
    if conference is None:
        raise ApiError(404, "not_found", f"No conference {conference_id}.")
    return conference


@bp.get("/conferences/<int:conference_id>")
@require_scope("conferences:read")
@spec.validate(
    resp=Resp(HTTP_200=ConferenceOut, HTTP_404=ErrorBody, **ERRORS), tags=["conferences"]
)
def show(conference_id: int) -> Response:
    """A conference and each invitation's status."""
    with current_runtime().db.transaction() as session:
        return jsonify(conference_json(session, _load(session, conference_id)))


@bp.patch("/conferences/<int:conference_id>")
@require_scope("conferences:write")
@spec.validate(
    json=ConferenceChange,
    resp=Resp(HTTP_200=ConferenceOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, **ERRORS),
    tags=["conferences"],
)
def move(conference_id: int) -> Response:
    """Move a conference; everyone invited is told and asked again."""
    body: ConferenceChange = request.context.json  # type: ignore[attr-defined]
    runtime, now = current_runtime(), _now()
    with runtime.db.transaction() as session:
        conference = _scheduled(session, conference_id)
        changed = []
        if body.starts_at is not None:
            conference.starts_at = checked_start(body.starts_at, now)
            changed.append("time")
        if body.venue is not None:
            conference.venue = body.venue
            changed.append("place")  # not the place itself: the trail names no venue
        conference.updated_at = now
        runtime.desk.moved(session, conference, now)
        _audit(session, conference, "conference_moved", now, *changed)
        return jsonify(conference_json(session, conference))


@bp.post("/conferences/<int:conference_id>/cancel")
@require_scope("conferences:write")
@spec.validate(
    resp=Resp(HTTP_200=ConferenceOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, **ERRORS),
    tags=["conferences"],
)
def cancel(conference_id: int) -> Response:
    """Cancel a conference; everyone still invited or confirmed is told."""
    runtime, now = current_runtime(), _now()
    with runtime.db.transaction() as session:
        conference = _scheduled(session, conference_id)
        runtime.desk.cancelled(session, conference, now)
        _audit(session, conference, "conference_cancelled", now)
        return jsonify(conference_json(session, conference))


def _audit(
    session: Session, conference: Conference, action: str, now: datetime, *what: str
) -> None:
    """Put a change to a conference on its referral's audit trail, by the calling token."""
    reference = session.get_one(Referral, conference.referral_id).reference
    audit(session, g.actor, action, reference, now, " ".join([f"#{conference.id}", *what]))


def _scheduled(session: Session, conference_id: int) -> Conference:
    """A conference that can still change, locked; 409 once cancelled or its outcome is
    recorded."""
    conference = _load(session, conference_id, lock=True)
    if conference.status != "scheduled":
        raise ApiError(409, "not_scheduled", f"The conference is {conference.status}.")
    return conference


# -- outcomes ---------------------------------------------------------------------------------
@bp.post("/referrals/<reference>/conferences/<int:conference_id>/outcome")
@require_scope("conferences:write")
@spec.validate(
    json=OutcomeIn,
    resp=Resp(HTTP_200=ConferenceOut, HTTP_404=ErrorBody, HTTP_409=ErrorBody, **ERRORS),
    tags=["conferences"],
)
def record_outcome(reference: str, conference_id: int) -> tuple[Response, int]:
    """Record whether a conference that has started was held; nobody is sent anything.

    The referral stays as it is: a case may have more conferences, the co-ordinator decides.
    """
    body: OutcomeIn = request.context.json  # type: ignore[attr-defined]
    runtime = current_runtime()
    try:
        with runtime.db.transaction() as session:
            return _record_once(session, reference, conference_id, body.outcome)
    except IntegrityError:  # the same key raced in from a retry: answer as the first did
        with runtime.db.transaction() as session:
            return _record_once(session, reference, conference_id, body.outcome)


def _record_once(
    session: Session, reference: str, conference_id: int, outcome: str
) -> tuple[Response, int]:
    """Record the outcome, or replay the first answer for a repeated Idempotency-Key."""
    conference = _of_referral(session, reference, conference_id)
    key, fingerprint = idempotency_key(), request_hash(request.path)
    if key and (replayed := replay(session, key, fingerprint)):
        return replayed
    now = _now()
    record_conference_outcome(session, g.actor, conference, outcome, now)
    answer = conference_json(session, conference)
    if key:
        remember(session, key, fingerprint, 200, answer, now)
    return jsonify(answer), 200


def _of_referral(session: Session, reference: str, conference_id: int) -> Conference:
    """The referral's conference, locked until the outcome is stored; a 404 for either unknown."""
    referral = find_referral(session, reference)
    if referral is None:
        raise ApiError(404, "not_found", f"No referral {reference}.")
    conference = session.get(Conference, conference_id, with_for_update=True)
    if conference is None or conference.referral_id != referral.id:
        raise ApiError(404, "not_found", f"Referral {reference} has no conference {conference_id}.")
    return conference
