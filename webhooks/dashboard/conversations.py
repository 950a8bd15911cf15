"""A chat that is not (yet) a referral: where an urgent-sign email links to.

Someone may show a sign of danger before they finish a referral, or never finish one. The
co-ordinator still needs to read what was said, so the urgent email links here; a chat
that has become a referral redirects to the referral's page.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.audit import audit
from case_store.models import Conversation, Message, Referral
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.runtime import current_runtime

URGENT_LIMIT = 20


def urgent_unreferred(session: Session, limit: int = URGENT_LIMIT) -> list[Conversation]:
    """Chats with an urgent sign and no referral, the latest first (for the queue)."""
    query = (
        select(Conversation)
        .where(Conversation.urgent.is_(True), Conversation.referral_id.is_(None))
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@bp.get("/conversations/<int:conversation_id>")
def conversation_page(conversation_id: int) -> Any:
    """The chat's flags and transcript; its referral's page when there is one."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            abort(404)
        if conversation.referral_id is not None:
            referral = session.get_one(Referral, conversation.referral_id)
            return redirect(url_for("dashboard.referral_page", reference=referral.reference))
        messages = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id)
            )
        )
        audit(
            session,
            staff().email,
            "viewed conversation",
            None,
            runtime.conversations.clock(),
            detail=f"conversation {conversation.id}",
        )
        state = conversation.state or {}
        return render_template(
            "dashboard/conversation.html",
            conversation=conversation,
            flags=list(state.get("flags") or []),
            erased=conversation.status == "deleted",
            messages=messages,
        )
