"""One referral: everything collected, and the co-ordinator's actions on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from case_store.audit import audit, trail
from case_store.conferences import confirmed_count, needs_outcome
from case_store.conversations import record_message
from case_store.erasure import erase_referral
from case_store.lifecycle import LIVE, TRANSITIONS
from case_store.models import (
    Conference,
    ConsentRecord,
    Conversation,
    Message,
    Referral,
    ReferralNote,
    Volunteer,
)
from case_store.outbox import enqueue
from case_store.referrals import find_referral
from case_store.volunteers import all_volunteers, is_removed
from webhooks.casework import change_referral, schedule_conference
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import (
    ConferenceForm,
    EraseForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    StatusForm,
)
from webhooks.errors import ApiError
from webhooks.runtime import Runtime, current_runtime
from webhooks.safe_contact import describe, is_safe_time

MESSAGE_CHANNELS = {"sms", "telegram"}


def load_referral(session: Session, reference: str) -> Referral:
    """The referral, or a 404 page."""
    referral = find_referral(session, reference.upper())
    if referral is None:
        abort(404, description=f"There is no referral {reference}.")
    return referral


def _conversation(session: Session, referral: Referral) -> Conversation | None:
    """The self-referral conversation behind a referral, if any."""
    return session.scalar(select(Conversation).where(Conversation.referral_id == referral.id))


def _status_form(referral: Referral) -> StatusForm:
    """The status form, offering only the moves the lifecycle allows."""
    form = StatusForm(prefix="status")
    form.status.choices = [
        SelectChoice(s, s.replace("_", " ")) for s in sorted(TRANSITIONS[referral.status])
    ]
    return form


def _conference_form(session: Session) -> ConferenceForm:
    """The conference form, offering the active volunteers."""
    form = ConferenceForm(prefix="conference")
    form.volunteers.choices = [
        SelectChoice(str(v.id), f"{v.name}{' (' + ', '.join(v.skills) + ')' if v.skills else ''}")
        for v in all_volunteers(session, active_only=True)
    ]
    return form


def render_referral(reference: str, status: int = 200, **forms: Any) -> tuple[str, int]:
    """Render the referral page (with any forms that carry errors)."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        audit(session, staff().actor, "viewed", referral.reference, runtime.conversations.clock())
        context = _context(session, runtime, referral)
        context["status_form"] = forms.get("status_form") or _status_form(referral)
        context["note_form"] = forms.get("note_form") or NoteForm(prefix="note")
        context["conference_form"] = forms.get("conference_form") or _conference_form(session)
        context["message_form"] = forms.get("message_form") or MessageForm(prefix="message")
        context["erase_form"] = forms.get("erase_form") or EraseForm(prefix="erase")
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm(prefix="outcome")
        return render_template("dashboard/referral.html", **context), status


def _context(session: Session, runtime: Runtime, referral: Referral) -> dict[str, Any]:
    """Everything the page shows, read in one transaction."""
    conversation = _conversation(session, referral)
    details = dict(referral.details or {})
    victim = details.get("victim") or {}
    messages = (
        list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id)
            )
        )
        if conversation
        else []
    )
    consents = list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.referral_id == referral.id)
            .order_by(ConsentRecord.id)
        )
    )
    notes = list(
        session.scalars(
            select(ReferralNote)
            .where(ReferralNote.referral_id == referral.id)
            .order_by(ReferralNote.id)
        )
    )
    now = runtime.conversations.clock()
    zone = runtime.profile.timezone
    return {
        "referral": referral,
        "details": details,
        "sections": _sections(details),
        "consents": consents,
        "messages": messages,
        "notes": notes,
        "audit": trail(session, referral.reference),
        "conferences": _conferences(session, referral, now),
        "can_message": bool(
            conversation and conversation.channel in MESSAGE_CHANNELS and conversation.address
        ),
        "opted_out": bool(conversation and conversation.opted_out),
        "safe_times": describe(victim.get("safe_times")),
        "safe_now": is_safe_time(victim.get("safe_times"), now, zone),
        "may_identify": victim.get("may_identify_service"),
        "is_live": referral.status in LIVE,
        "zone": zone,
    }


SECTION_TITLES = {
    "victim": "The person",
    "referrer": "Who referred",
    "offence": "What happened",
    "consent": "Consent",
    "safeguarding": "Safeguarding",
}
HIDDEN = {"source", "channel", "urgent", "reference"}


def _sections(details: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The referral's details as titled lists of (label, value), empty values left out."""
    sections: list[tuple[str, list[tuple[str, Any]]]] = []
    loose: list[tuple[str, Any]] = []
    for key, value in details.items():
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            rows = [(_label(k), _plain(v)) for k, v in value.items() if v not in (None, "", [])]
            if rows:
                sections.append((SECTION_TITLES.get(key, _label(key)), rows))
        else:
            loose.append((_label(key), _plain(value)))
    if loose:
        sections.insert(1 if sections else 0, ("The referral", loose))
    return sections


def _label(key: str) -> str:
    """A field name in words."""
    return key.replace("_", " ").capitalize()


def _plain(value: Any) -> str:
    """A value in words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_plain(v)}" for k, v in value.items() if v is not None)
    return (
        str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)
    )


def _conferences(session: Session, referral: Referral, now: datetime) -> list[dict[str, Any]]:
    """The referral's conferences with each invitation and the volunteer's name."""
    conferences = session.scalars(
        select(Conference).where(Conference.referral_id == referral.id).order_by(Conference.id)
    )
    return [conference_view(session, c, now) for c in conferences]


def conference_view(session: Session, conference: Conference, now: datetime) -> dict[str, Any]:
    """A conference as the pages show it (an outcome is needed once its start has passed)."""
    names = {v.id: _volunteer_name(v) for v in session.scalars(select(Volunteer))}
    return {
        "id": conference.id,
        "starts_at": conference.starts_at,
        "venue": conference.venue,
        "status": conference.status,
        "outcome_needed": needs_outcome(conference, now),
        "needed": conference.min_facilitators,
        "confirmed": confirmed_count(conference),
        "invitations": [
            {
                "name": names.get(i.volunteer_id, f"volunteer {i.volunteer_id}"),
                "status": i.status,
                "changed_at": i.status_changed_at,
            }
            for i in conference.invitations
        ],
    }


def _volunteer_name(volunteer: Volunteer) -> str:
    """A volunteer's name, or who they were once removed (their name is erased)."""
    return f"Removed volunteer #{volunteer.id}" if is_removed(volunteer) else volunteer.name


@bp.get("/referrals/<reference>")
def referral_page(reference: str) -> tuple[str, int]:
    """The referral page."""
    return render_referral(reference)


@bp.post("/referrals/<reference>/status")
def change_status(reference: str) -> Any:
    """Move the referral along its lifecycle (the API's rules)."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        form = _status_form(referral)
        valid = form.validate_on_submit()
        if valid:
            now, desk = runtime.conversations.clock(), runtime.desk
            change_referral(session, referral, staff().actor, form.status.data, None, now, desk)
    if not valid:
        return render_referral(reference, 422, status_form=form)
    flash(f"Status changed to {form.status.data.replace('_', ' ')}.")
    return _back(reference)


@bp.post("/referrals/<reference>/notes")
def add_note(reference: str) -> Any:
    """Add a note."""
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return render_referral(reference, 422, note_form=form)
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        change_referral(
            session, referral, staff().actor, None, form.note.data, runtime.conversations.clock()
        )
    flash("Note added.")
    return _back(reference)


@bp.post("/referrals/<reference>/conferences")
def add_conference(reference: str) -> Any:
    """Schedule a conference; each chosen volunteer is invited by SMS."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        form = _conference_form(session)
    if not form.validate_on_submit():
        return render_referral(reference, 422, conference_form=form)
    local: datetime = form.starts_at.data
    starts_at = local.replace(tzinfo=ZoneInfo(runtime.profile.timezone))
    try:
        with runtime.db.transaction() as session:
            load_referral(session, reference)
            schedule_conference(
                session,
                runtime,
                staff().actor,
                reference=reference.upper(),
                starts_at=starts_at,
                venue=form.venue.data,
                volunteer_ids=list(form.volunteers.data),
                min_facilitators=form.min_facilitators.data,
            )
    except ApiError as exc:
        for field, problem in exc.fields.items():
            target = getattr(form, field, None) if field != "referral" else None
            if target is not None:
                target.errors = [*target.errors, problem]
            else:
                form.form_errors.append(problem)
        return render_referral(reference, exc.status, conference_form=form)
    flash("Conference scheduled: the volunteers have been sent an invitation.")
    return _back(reference)


@bp.post("/referrals/<reference>/message")
def send_message(reference: str) -> Any:
    """Send the victim a message through their channel, within their safe times."""
    form = MessageForm(prefix="message")
    if not form.validate_on_submit():
        return render_referral(reference, 422, message_form=form)
    runtime = current_runtime()
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        conversation = _conversation(session, referral)
        problem = _message_problem(runtime, referral, conversation, form, now)
        if problem:
            form.form_errors.append(problem)
        elif conversation is not None:
            _queue_message(session, conversation, form.text.data, now)
            audit(session, staff().actor, "message", referral.reference, now, conversation.channel)
    if problem:
        return render_referral(reference, 409, message_form=form)
    flash("Message queued: it goes out in a moment.")
    return _back(reference)


def _message_problem(
    runtime: Runtime,
    referral: Referral,
    conversation: Conversation | None,
    form: MessageForm,
    now: datetime,
) -> str | None:
    """Why this message must not go now, if it must not."""
    if conversation is None or conversation.channel not in MESSAGE_CHANNELS:
        return "This person did not contact us by SMS or Telegram: reply another way."
    if not conversation.address:
        return "Their data has been erased: we no longer hold their number to message them."
    if conversation.opted_out:
        return "They have asked for no more messages (STOP). Do not message them."
    victim = (referral.details or {}).get("victim") or {}
    safe = is_safe_time(victim.get("safe_times"), now, runtime.profile.timezone)
    if not safe and not form.outside_safe_times.data:
        return (
            "It is outside the times they said are safe ("
            + describe(victim.get("safe_times"))
            + "). Wait, or tick the box to confirm it is safe to send now."
        )
    return None


def _queue_message(session: Session, conversation: Conversation, text: str, now: datetime) -> None:
    """Store the message and queue it in the outbox for the conversation's channel."""
    message = record_message(
        session, conversation, "out", text, now, channel=conversation.channel, status="queued"
    )
    enqueue(
        session,
        kind=conversation.channel,
        recipient=conversation.address,
        payload={"text": text, "buttons": [], "step": None},
        dedupe_key=f"staff:{message.id}",
        now=now,
        conversation_id=conversation.id,
        message_id=message.id,
    )


@bp.post("/referrals/<reference>/erase")
def erase(reference: str) -> Any:
    """Erase the person's personal data everywhere, after typing the reference."""
    form = EraseForm(prefix="erase")
    if not form.validate_on_submit() or form.confirm.data.strip().upper() != reference.upper():
        form.confirm.errors = ["Type the reference exactly to confirm."]
        return render_referral(reference, 422, erase_form=form)
    runtime = current_runtime()
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        # the erasure record names them by their login's id (it has room for no more); the
        # audit trail, as for every other action, by their email
        erase_referral(session, referral, f"staff:{staff().id}", now, runtime.desk, staff().actor)
        audit(session, staff().actor, "erased", referral.reference, now)
    flash("Their personal data has been erased. A record that it happened is kept.")
    return _back(reference)


@bp.get("/conferences/<int:conference_id>/invitations")
def invitations(conference_id: int) -> str:
    """A conference's invitations, refreshed on the page as replies arrive."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        conference = session.get(Conference, conference_id)
        if conference is None:
            abort(404, description="There is no such conference.")
        view = conference_view(session, conference, runtime.conversations.clock())
    return render_template("dashboard/_invitations.html", conference=view)


def _back(reference: str) -> Response:
    """Back to the referral page (post, redirect, get)."""
    return redirect(url_for("dashboard.referral_page", reference=reference.upper()) + _anchor())


def _anchor() -> str:
    """Keep the reader where they were on the page."""
    section = request.path.rsplit("/", 1)[-1]
    return f"#{section}" if section.isalpha() else ""
