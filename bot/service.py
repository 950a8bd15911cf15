"""One inbound message, one transaction: record it, step the flow, store the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.engine import Context, Detector, Effect, Reply, step
from bot.flow import Flow
from bot.labels import load_labels
from bot.profile import Profile
from bot.render import Rendered, Renderer
from case_store.conferences import Canceller
from case_store.conversations import (
    already_received,
    end_turn,
    open_conversation,
    record_inbound,
    record_messages,
    save_turn,
)
from case_store.db import Database
from case_store.erasure import erase_conversation
from case_store.intake import SelfReferral, submit
from case_store.models import Conversation, Referral
from case_store.outbox import cancel_pending_for, enqueue_new
from case_store.references import random_reference, unique_reference
from case_store.referrals import attach_consents, record_consent

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """Who is told about new referrals and urgent signs."""

    def new_referral(self, session: Session, referral: Referral, now: datetime) -> None:
        """A referral was made."""

    def urgent(
        self, session: Session, conversation: Conversation, kind: str, event_id: str, now: datetime
    ) -> None:
        """A safeguarding sign was seen."""


@dataclass(frozen=True)
class TurnEnd:
    """How a turn went, for the channel's hook: in its transaction, at its time."""

    session: Session
    conversation: Conversation
    stepped: bool  # False: the hook refused the message, the flow did not move
    now: datetime
    effects: frozenset[str] = frozenset()  # the kinds of effect the step carried out


class TurnHook(Protocol):
    """Channel-specific work in the same transaction as a message (e.g. button presses)."""

    def accept(self, conversation: Conversation) -> bool:
        """False when the message must not step the flow (a stale button, say)."""

    def after(self, turn: TurnEnd) -> None:
        """Queue whatever else the channel needs."""


@dataclass(frozen=True)
class Inbound:
    """A message as a channel hands it over."""

    channel: str
    address: str
    text: str
    message_id: str | None = None
    style: str | None = None  # how replies are rendered; defaults to the channel


@dataclass
class Outcome:
    """What handling produced: nothing for a duplicate, else the rendered replies."""

    duplicate: bool
    conversation_id: int | None = None
    replies: list[Rendered] = field(default_factory=list)
    opted_out: bool = False


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class ConversationService:
    """Runs the flow for inbound messages and stores everything in one transaction."""

    def __init__(
        self,
        db: Database,
        profile: Profile,
        flow: Flow,
        detector: Detector,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
        make_reference: Callable[[], str] = random_reference,
        *,
        desk: Canceller,
    ) -> None:
        """Wire the service to its database, words and collaborators (`desk`: conferences)."""
        self.db, self.profile, self.flow = db, profile, flow
        self.detector, self.notifier, self.desk = detector, notifier, desk
        self.clock, self.make_reference = clock, make_reference
        self.labels = load_labels(str(profile.service.get("locale", "en")))

    def renderer(self, style: str) -> Renderer:
        """A renderer for one channel style."""
        return Renderer(style, self.profile)

    def handle(
        self, inbound: Inbound, delivery: str = "inline", hook: TurnHook | None = None
    ) -> Outcome:
        """Handle one inbound message; `delivery` is "inline" (reply now) or "outbox"."""
        with self.db.transaction() as session:
            return self.handle_in(session, inbound, delivery, hook)

    def handle_in(
        self,
        session: Session,
        inbound: Inbound,
        delivery: str = "inline",
        hook: TurnHook | None = None,
        *,
        checked: bool = False,
    ) -> Outcome:
        """handle() inside the caller's transaction; `checked`: it has looked for a duplicate."""
        if (
            not checked
            and inbound.message_id
            and already_received(session, inbound.channel, inbound.message_id)
        ):
            return Outcome(duplicate=True)
        now = self.clock()
        conv = open_conversation(session, inbound.channel, inbound.address, self.flow.id, now)
        message_id = record_inbound(
            session, conv, inbound.text, now, channel_message_id=inbound.message_id
        )
        stepped = hook is None or hook.accept(conv)
        rendered, effects = (
            self._step(session, conv, inbound, message_id, delivery, now)
            if stepped
            else ([], frozenset[str]())
        )
        if hook is not None:
            hook.after(TurnEnd(session, conv, stepped, now, effects))
        end_turn(conv)
        log.debug("message handled", extra={"event": "message_in", "channel": inbound.channel})
        return Outcome(False, conv.id, rendered, conv.opted_out)

    def _step(
        self,
        session: Session,
        conv: Conversation,
        inbound: Inbound,
        message_id: int,
        delivery: str,
        now: datetime,
    ) -> tuple[list[Rendered], frozenset[str]]:
        """Step the flow, carry out its effects and store (or queue) its replies.

        The rendered replies, and the kinds of effect carried out.
        """
        result = step(self.flow, conv.state, inbound.text, self._context(session, inbound, now))
        renderer = self.renderer(inbound.style or inbound.channel)
        self._save_state(session, conv, result.state, now)
        for effect in result.effects:
            self._apply(session, conv, effect, renderer, f"{inbound.channel}:{message_id}", now)
        rendered = renderer.render_all(result.replies)
        self._deliver(session, conv, rendered, delivery, now)
        return rendered, frozenset(effect.kind for effect in result.effects)

    def _context(self, session: Session, inbound: Inbound, now: datetime) -> Context:
        """The engine's view of the world for this message."""
        return Context(
            now=now,
            channel=inbound.channel,
            profile=self.profile,
            labels=self.labels,
            detector=self.detector,
            address=inbound.address,
            new_reference=lambda: unique_reference(session, self.make_reference),
        )

    def _save_state(
        self, session: Session, conv: Conversation, state: dict[str, Any], now: datetime
    ) -> None:
        """Store the engine's new state on the conversation row."""
        save_turn(
            session,
            conv,
            state=state,
            step=state["step"],
            status=state["status"],
            opted_out=state["opted_out"],
            last_activity_at=now,
            urgent=conv.urgent or state["urgent"],
        )

    def _deliver(
        self,
        session: Session,
        conv: Conversation,
        rendered: list[Rendered],
        delivery: str,
        now: datetime,
    ) -> None:
        """Store replies (one INSERT); queue them in the outbox when not answered inline."""
        status = "replied" if delivery == "inline" else "queued"
        outbox = delivery == "outbox"
        texts = [reply.text for reply in rendered]
        ids = record_messages(session, conv, "out", texts, now, status=status, with_ids=outbox)
        if outbox:
            sends = [
                (f"reply:{out_id}:{index}", _payload(reply), out_id)
                for index, (reply, out_id) in enumerate(zip(rendered, ids, strict=True))
            ]
            enqueue_new(
                session,
                kind=conv.channel,
                recipient=conv.address,
                items=sends,
                now=now,
                conversation_id=conv.id,
            )

    # -- effects --------------------------------------------------------------------------
    def _apply(
        self,
        session: Session,
        conv: Conversation,
        effect: Effect,
        renderer: Renderer,
        event_id: str,
        now: datetime,
    ) -> None:
        """Carry out one effect of the engine."""
        handler = getattr(self, f"_effect_{effect.kind}", None)
        if handler is not None:
            handler(session, conv, effect, renderer=renderer, event_id=event_id, now=now)

    def _effect_urgent(
        self, session: Session, conv: Conversation, effect: Effect, **kw: Any
    ) -> None:
        """Mark urgent everywhere and email the co-ordinator at once."""
        conv.urgent = True
        if conv.referral_id is not None:
            referral = session.get(Referral, conv.referral_id)
            if referral is not None:
                referral.urgent = True
        self.notifier.urgent(session, conv, effect.data["kind"], kw["event_id"], kw["now"])
        log.info("urgent: co-ordinator told", extra={"event": "urgent", "channel": conv.channel})

    def _effect_opt_out(
        self, session: Session, conv: Conversation, effect: Effect, **kw: Any
    ) -> None:
        """Stop every queued send to this person."""
        cancel_pending_for(session, conv.id)

    def _effect_consent(
        self, session: Session, conv: Conversation, effect: Effect, **kw: Any
    ) -> None:
        """Record the consent answer with the exact wording that was shown."""
        shown = self.flow.step(effect.data["step"])
        options = tuple(self.labels.options_for(shown))
        wording = kw["renderer"].render(Reply(shown.prompt, {}, options, shown.id)).text
        record_consent(
            session,
            conv,
            item=effect.data["item"],
            answer=str(effect.data["answer"]),
            wording=wording,
            notice_version=self.profile.notice_version,
            now=kw["now"],
        )

    def _effect_finish_referral(
        self, session: Session, conv: Conversation, effect: Effect, **kw: Any
    ) -> None:
        """Store the referral through the one intake and tell the co-ordinator."""
        record = SelfReferral.model_validate(
            {**effect.data["referral"], "notice_version": self.profile.notice_version}
        )
        referral = submit(session, record, reference=effect.data["reference"], now=kw["now"])
        referral.urgent = referral.urgent or conv.urgent
        conv.referral_id = referral.id
        session.flush()
        attach_consents(session, conv, referral)
        self.notifier.new_referral(session, referral, kw["now"])
        log.info(
            "referral made",
            extra={
                "event": "referral_created",
                "reference": referral.reference,
                "channel": referral.channel,
            },
        )

    def _effect_erase(
        self, session: Session, conv: Conversation, effect: Effect, **kw: Any
    ) -> None:
        """Erase what the person told us, keeping a record that it happened."""
        erase_conversation(session, conv, "person", kw["now"], self.desk)
        log.info("erased on request", extra={"event": "erased", "channel": conv.channel})


def _payload(reply: Rendered) -> dict[str, Any]:
    """What the outbox keeps to send a reply: its text, buttons and question."""
    return {"text": reply.text, "buttons": [list(b) for b in reply.buttons], "step": reply.step}
