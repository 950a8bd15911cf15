"""Conference outcomes: once a conference's start has passed, was it held or not?"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from case_store.models import Conference, Referral
from webhooks.casework import record_conference_outcome
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import OutcomeForm
from webhooks.dashboard.referral import load_referral, render_referral
from webhooks.errors import ApiError
from webhooks.runtime import current_runtime

RECORDED = {
    "held": "Conference recorded as held.",
    "not_held": "Conference recorded as not going ahead.",
}


def _conference_of(session: Session, referral: Referral, conference_id: int) -> Conference:
    """The referral's conference with this id, or a 404 page."""
    conference = session.get(Conference, conference_id)
    if conference is None or conference.referral_id != referral.id:
        abort(404, description="This referral has no such conference.")
    return conference


@bp.post("/referrals/<reference>/conferences/<int:conference_id>/outcome")
def record_outcome(reference: str, conference_id: int) -> Any:
    """Record that a conference was held or did not go ahead; nobody is sent anything."""
    form = OutcomeForm(prefix="outcome")
    if not form.validate_on_submit():
        return render_referral(reference, 422, outcome_form=form)
    runtime = current_runtime()
    try:
        with runtime.db.transaction() as session:
            conference = _conference_of(session, load_referral(session, reference), conference_id)
            record_conference_outcome(
                session, staff().actor, conference, form.outcome.data, runtime.conversations.clock()
            )
    except ApiError as exc:
        form.form_errors.append(exc.message)
        return render_referral(reference, exc.status, outcome_form=form)
    flash(RECORDED[form.outcome.data])
    return _back_to_conferences(reference)


def _back_to_conferences(reference: str) -> Response:
    """Back to the referral page's conferences (post, redirect, get)."""
    page = url_for("dashboard.referral_page", reference=reference.upper())
    return redirect(f"{page}#conferences")
