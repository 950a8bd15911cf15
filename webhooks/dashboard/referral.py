"""One referral's page: everything collected, with the forms for the co-ordinator's actions.

The actions themselves are beside it: `referral_casework` (status and notes),
`referral_conferences`, `outcomes`, `referral_contact` (a message to the person) and
`referral_erasure`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from case_store.audit import audit, trail
from case_store.lifecycle import LIVE, TRANSITIONS
from case_store.models import ConsentRecord, Conversation, Message, Referral, ReferralNote
from case_store.referrals import find_referral
from case_store.volunteers import all_volunteers
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.conference_views import conferences_of
from webhooks.dashboard.forms import (
    ConferenceForm,
    EraseForm,
    MessageForm,
    NoteForm,
    OutcomeForm,
    StatusForm,
)
from webhooks.dashboard.referral_details import sections
from webhooks.runtime import Runtime, current_runtime
from webhooks.safe_contact import describe, is_safe_time

MESSAGE_CHANNELS = {"sms", "telegram"}


def load_referral(session: Session, reference: str, *, lock: bool = False) -> Referral:
    """The referral (locked, to change it), or a 404 page."""
    referral = find_referral(session, reference.upper(), lock=lock)
    if referral is None:
        abort(404, description=f"There is no referral {reference}.")
    return referral


def conversation_of(session: Session, referral: Referral) -> Conversation | None:
    """The self-referral conversation behind a referral, if any."""
    return session.scalar(select(Conversation).where(Conversation.referral_id == referral.id))


def status_form(referral: Referral) -> StatusForm:
    """The status form, offering only the moves the lifecycle allows."""
    form = StatusForm(prefix="status")
    form.status.choices = [
        SelectChoice(s, s.replace("_", " ")) for s in sorted(TRANSITIONS[referral.status])
    ]
    return form


def conference_form(session: Session) -> ConferenceForm:
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
        context["status_form"] = forms.get("status_form") or status_form(referral)
        context["note_form"] = forms.get("note_form") or NoteForm(prefix="note")
        context["conference_form"] = forms.get("conference_form") or conference_form(session)
        context["message_form"] = forms.get("message_form") or MessageForm(prefix="message")
        context["erase_form"] = forms.get("erase_form") or EraseForm(prefix="erase")
        context["outcome_form"] = forms.get("outcome_form") or OutcomeForm(prefix="outcome")
        return render_template("dashboard/referral.html", **context), status


def _context(session: Session, runtime: Runtime, referral: Referral) -> dict[str, Any]:
    """Everything the page shows, read in one transaction."""
    conversation = conversation_of(session, referral)
    details = dict(referral.details or {})
    victim = details.get("victim") or {}
    now = runtime.conversations.clock()
    zone = runtime.profile.timezone
    return {
        "referral": referral,
        "details": details,
        "sections": sections(details),
        "consents": _consents(session, referral),
        "messages": _messages(session, conversation),
        "notes": _notes(session, referral),
        "audit": trail(session, referral.reference),
        "conferences": conferences_of(session, referral, now),
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


def _messages(session: Session, conversation: Conversation | None) -> list[Message]:
    """The conversation's messages, oldest first (none without a conversation)."""
    if conversation is None:
        return []
    query = select(Message).where(Message.conversation_id == conversation.id)
    return list(session.scalars(query.order_by(Message.id)))


def _consents(session: Session, referral: Referral) -> list[ConsentRecord]:
    """The referral's consent records, in the order they were given."""
    query = select(ConsentRecord).where(ConsentRecord.referral_id == referral.id)
    return list(session.scalars(query.order_by(ConsentRecord.id)))


def _notes(session: Session, referral: Referral) -> list[ReferralNote]:
    """The referral's notes, oldest first."""
    query = select(ReferralNote).where(ReferralNote.referral_id == referral.id)
    return list(session.scalars(query.order_by(ReferralNote.id)))


@bp.get("/referrals/<reference>")
def referral_page(reference: str) -> tuple[str, int]:
    """The referral page."""
    return render_referral(reference)


def back_to_referral(reference: str) -> Response:
    """Back to the referral page (post, redirect, get)."""
    return redirect(url_for("dashboard.referral_page", reference=reference.upper()) + _anchor())


def _anchor() -> str:
    """Keep the reader where they were on the page."""
    section = request.path.rsplit("/", 1)[-1]
    return f"#{section}" if section.isalpha() else ""
