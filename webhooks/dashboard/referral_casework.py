"""A referral's casework on its page: moving its status along the lifecycle, and notes."""

from __future__ import annotations

from typing import Any

from flask import flash

from webhooks.casework import change_referral
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import NoteForm
from webhooks.dashboard.referral import (
    back_to_referral,
    load_referral,
    render_referral,
    status_form,
)
from webhooks.runtime import current_runtime


@bp.post("/referrals/<reference>/status")
def change_status(reference: str) -> Any:
    """Move the referral along its lifecycle (the API's rules)."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference, lock=True)
        form = status_form(referral)
        valid = form.validate_on_submit()
        if valid:
            now, desk = runtime.conversations.clock(), runtime.desk
            change_referral(session, referral, staff().actor, form.status.data, None, now, desk)
    if not valid:
        return render_referral(reference, 422, status_form=form)
    flash(f"Status changed to {form.status.data.replace('_', ' ')}.")
    return back_to_referral(reference)


@bp.post("/referrals/<reference>/notes")
def add_note(reference: str) -> Any:
    """Add a note."""
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return render_referral(reference, 422, note_form=form)
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        referral = load_referral(session, reference)
        now = runtime.conversations.clock()
        change_referral(session, referral, staff().actor, None, form.note.data, now, runtime.desk)
    flash("Note added.")
    return back_to_referral(reference)
