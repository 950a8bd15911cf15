"""Co-ordinator emails: rendered from templates, queued in the outbox, never personal."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from case_store.conversations import address_hash
from case_store.models import Conversation, Referral
from case_store.outbox import enqueue
from case_store.telegram_ids import TAG_CHARS

EMAIL_DIR = Path(__file__).resolve().parent.parent / "templates" / "email"
KIND_TEXT = {"danger": "possible immediate danger", "self_harm": "possible suicide or self-harm"}


@cache
def _env() -> Environment:
    """The email template environment (HTML autoescaped)."""
    return Environment(loader=FileSystemLoader(EMAIL_DIR), autoescape=select_autoescape(["html"]))


@cache
def _subjects() -> dict[str, str]:
    """Subject line patterns."""
    with (EMAIL_DIR / "subjects.yaml").open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def render_email(name: str, subject_key: str, **context: Any) -> dict[str, str]:
    """A {subject, text, html} payload for one email."""
    return {
        "subject": _subjects()[subject_key].format(**context),
        "text": _env().get_template(f"{name}.txt").render(context),
        "html": _env().get_template(f"{name}.html").render(context),
    }


class EmailNotifier:
    """Queues co-ordinator emails for new referrals and urgent signs."""

    def __init__(self, recipients: tuple[str, ...], base_url: str) -> None:
        """Send to `recipients`, linking to the dashboard under `base_url`."""
        self.recipients = recipients
        self.base_url = base_url.rstrip("/")

    def new_referral(self, session: Session, referral: Referral, now: datetime) -> None:
        """Tell the co-ordinator about a new referral."""
        key = "new_referral_urgent" if referral.urgent else "new_referral"
        payload = render_email(
            "new_referral",
            key,
            reference=referral.reference,
            source=referral.source,
            channel=referral.channel,
            urgent=referral.urgent,
            when=_when(now),
            link=f"{self.base_url}/coordinator/referrals/{referral.reference}",
        )
        self._queue(session, payload, f"referral:{referral.reference}", now)

    def urgent(
        self,
        session: Session,
        conversation: Conversation,
        kind: str,
        event_id: str,
        now: datetime,
    ) -> None:
        """Tell the co-ordinator at once about a safeguarding sign."""
        reference = conversation.state.get("reference") if conversation.state else None
        payload = render_email(
            "urgent",
            "urgent",
            reference=reference,
            conversation_id=conversation.id,
            channel=conversation.channel,
            kind_text=KIND_TEXT.get(kind, kind),
            when=_when(now),
            link=f"{self.base_url}/coordinator/conversations/{conversation.id}",
        )
        self._queue(session, payload, f"urgent:{event_id}", now)

    def send(
        self,
        session: Session,
        template: str,
        subject_key: str,
        context: dict[str, Any],
        key: str,
        now: datetime,
    ) -> None:
        """Render and queue any co-ordinator email."""
        self._queue(session, render_email(template, subject_key, **context), key, now)

    def _queue(self, session: Session, payload: dict[str, str], key: str, now: datetime) -> None:
        """One outbox row per recipient, once per event and recipient."""
        for address in self.recipients:
            enqueue(
                session,
                kind="email",
                recipient=address,
                payload=payload,
                dedupe_key=f"email:{key}:{recipient_tag(address)}",
                now=now,
            )


def recipient_tag(address: str) -> str:
    """How a dedupe key names a co-ordinator: a keyed hash of the address, never the address.

    The hash is the one the outbox finds the recipient by (`address_hash`), cut to 128 bits as
    for a Telegram chat, so the same address always gives the same key and a key stays short.
    """
    return address_hash("email", address)[:TAG_CHARS]


def _when(now: datetime) -> str:
    """A timestamp for people to read."""
    return now.strftime("%Y-%m-%d %H:%M %Z").strip()
