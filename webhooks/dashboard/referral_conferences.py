"""Conferences from a referral's page: scheduling one, and its invitations as replies arrive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, render_template

from case_store.models import Conference
from webhooks.casework import schedule_conference
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.conference_views import conference_view
from webhooks.dashboard.forms import ConferenceForm
from webhooks.dashboard.referral import (
    back_to_referral,
    conference_form,
    load_referral,
    render_referral,
)
from webhooks.errors import ApiError
from webhooks.runtime import current_runtime


@bp.post("/referrals/<reference>/conferences")
def add_conference(reference: str) -> Any:
    """Schedule a conference; each chosen volunteer is invited by SMS."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        form = conference_form(session)
    if not form.validate_on_submit():
        return render_referral(reference, 422, conference_form=form)
    local: datetime = form.starts_at.data
    starts_at = local.replace(tzinfo=runtime.profile.zone)
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
        _show_problems(form, exc)
        return render_referral(reference, exc.status, conference_form=form)
    flash("Conference scheduled: the volunteers have been sent an invitation.")
    return back_to_referral(reference)


def _show_problems(form: ConferenceForm, refused: ApiError) -> None:
    """Put each problem the scheduling found beside its field, or above the form."""
    for field, problem in refused.fields.items():
        target = getattr(form, field, None) if field != "referral" else None
        if target is not None:
            target.errors = [*target.errors, problem]
        else:
            form.form_errors.append(problem)


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
