"""Failed sends: dead-lettered SMS, Telegram messages and emails, and trying one again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.dead_letters import (
    count_dead,
    dead_letters,
    linked_reference,
    retry_dead,
    retry_problem,
)
from case_store.models import OutboxItem
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.forms import RetryForm
from webhooks.runtime import current_runtime

SHOWN = 100
KINDS = {"sms": "SMS", "telegram": "Telegram", "email": "Email"}
REFUSALS = {
    "not_dead": "That send is no longer in the failed list: it may have been tried again already.",
    "opted_out": "They have asked for no more messages (STOP), so it will not be sent.",
    "erased": "Their data has been erased, so it cannot be sent.",
}
# provider errors should carry no personal data; this hides any that slips through
_PERSONAL = re.compile(r"\S+@\S+|\+?\d[\d ()-]{5,}\d")


@dataclass(frozen=True)
class FailedSend:
    """One dead-lettered send as the page shows it: nothing that identifies anyone."""

    id: int
    kind: str
    audience: str
    hint: str
    reference: str | None
    attempts: int
    error: str
    failed_at: datetime
    refusal: str | None


def _row(session: Session, item: OutboxItem) -> FailedSend:
    """A dead-lettered send with its recipient masked and its text left out."""
    problem = retry_problem(session, item)
    return FailedSend(
        id=item.id,
        kind=KINDS.get(item.kind, item.kind),
        audience=_audience(item),
        hint=_hint(item.kind, item.recipient),
        reference=linked_reference(session, item),
        attempts=item.attempts,
        error=_PERSONAL.sub("[hidden]", item.last_error or "") or "No error was recorded.",
        failed_at=item.next_attempt_at,
        refusal=REFUSALS.get(problem) if problem else None,
    )


def _audience(item: OutboxItem) -> str:
    """Who the send was for, in words: emails go to staff, SMS alone to volunteers."""
    if item.kind == "email":
        return "Co-ordinator"
    if item.kind == "sms" and item.conversation_id is None:
        return "Volunteer"
    return "Person who contacted us"


def _hint(kind: str, recipient: str) -> str:
    """Enough of an address to tell two apart, never the address itself."""
    if kind == "sms":
        digits = re.sub(r"\D", "", recipient)
        return f"number ending {digits[-3:]}" if len(digits) >= 6 else ""
    if kind == "email" and "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}…@{domain}"
    return ""


@bp.get("/sends")
def sends(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    """Dead-lettered sends, the latest to fail first, each with a button to try again."""
    with current_runtime().db.transaction() as session:
        rows = [_row(session, item) for item in dead_letters(session, SHOWN)]
        total = count_dead(session)
    return render_template(
        "dashboard/sends.html",
        rows=rows,
        total=total,
        refusal=REFUSALS.get(problem) if problem else None,
    ), status


@bp.post("/sends/<int:item_id>/retry")
def retry_send(item_id: int) -> Any:
    """Put a dead-lettered send back in the queue, due now (audited); 409 when it must not go."""
    if not RetryForm().validate_on_submit():
        abort(400, description="The form was not valid; please try again.")
    runtime = current_runtime()
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        item = session.get(OutboxItem, item_id)
        if item is None:
            abort(404, description="There is no such send.")
        problem = retry_dead(session, item, now)
        if problem is None:
            reference = linked_reference(session, item)
            audit(session, staff().actor, "send retried", reference, now, f"{item.kind} {item.id}")
    if problem is not None:
        return sends(problem, 409)
    flash("Queued to try again: it goes out in a moment.")
    return redirect(url_for("dashboard.sends"))
