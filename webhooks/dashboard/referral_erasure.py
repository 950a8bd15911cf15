"""Erasing the person's personal data from their referral's page."""

from __future__ import annotations

from typing import Any

from flask import flash

from case_store.audit import audit
from case_store.erasure import erase_referral
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import EraseForm
from webhooks.dashboard.referral import back_to_referral, load_referral, render_referral
from webhooks.runtime import current_runtime


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
        referral = load_referral(session, reference, lock=True)
        # the erasure record names them by their login's id (it has room for no more); the
        # audit trail, as for every other action, by their email
        erase_referral(session, referral, f"staff:{staff().id}", now, runtime.desk, staff().actor)
        audit(session, staff().actor, "erased", referral.reference, now)
    flash("Their personal data has been erased. A record that it happened is kept.")
    return back_to_referral(reference)
