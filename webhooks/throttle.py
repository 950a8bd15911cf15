"""What happens to a message from a sender who is over their rate limit.

Twilio does not retry an inbound-SMS webhook that answers 429 (or any error) the way it
retries a timeout: the message would simply be lost. Telegram does retry non-2xx answers,
so a 429 there turns one flood into a second flood of redeliveries. So a throttled message
is acknowledged (200), recorded once (encrypted, under its channel id, so a redelivery
changes nothing) with status "throttled", and not stepped through the flow. The person is
told once per NOTICE_RULE window, kindly, to wait and send their answer again; nothing is
sent to someone who has opted out.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse

from bot.render import Renderer
from case_store.conversations import already_received, end_turn, open_conversation, record_message
from case_store.outbox import enqueue
from case_store.telegram_ids import callback_dedupe_key
from webhooks.limits import app_limiter
from webhooks.runtime import Runtime

NOTICE_RULE = parse("1 per hour")
NOTICE_TEMPLATE = "slow_down"


@dataclass(frozen=True)
class Held:
    """A throttled message: who sent it, what, and under which channel id."""

    channel: str
    address: str
    text: str | None
    message_id: str
    limit_key: str


def notice_due(limit_key: str) -> bool:
    """True the first time in NOTICE_RULE's window that this sender is throttled."""
    try:
        return bool(app_limiter().limiter.hit(NOTICE_RULE, "rj-slow-down", limit_key))
    except Exception:  # storage gone mid-request: one notice too many beats a lost message
        return True


def hold(runtime: Runtime, held: Held) -> str | None:
    """Record the message without stepping the flow; the slow-down text when one is due."""
    service = runtime.conversations
    with runtime.db.transaction() as session:
        if already_received(session, held.channel, held.message_id):
            return None
        now = service.clock()
        conv = open_conversation(session, held.channel, held.address, service.flow.id, now)
        record_message(
            session,
            conv,
            "in",
            held.text,
            now,
            channel=held.channel,
            channel_message_id=held.message_id,
            status="throttled",
        )
        end_turn(conv)  # an erased conversation keeps no address; the notice uses held.address
        if conv.opted_out or not notice_due(held.limit_key):
            return None
        text = Renderer(held.channel, service.profile).text(NOTICE_TEMPLATE)
        if held.channel == "sms":
            record_message(session, conv, "out", text, now, channel="sms", status="replied")
        else:
            enqueue(
                session,
                kind=held.channel,
                recipient=held.address,
                payload={"text": text},
                dedupe_key=f"slow-down:{held.channel}:{held.message_id}",
                now=now,
                conversation_id=conv.id,
            )
        return text


def answer_button_press(runtime: Runtime, callback_id: str) -> None:
    """A throttled button press is still answered, so the person's spinner stops."""
    with runtime.db.transaction() as session:
        enqueue(
            session,
            kind="telegram",
            recipient=f"cb:{callback_id}",
            payload={"method": "answer_callback", "callback_id": callback_id, "text": None},
            dedupe_key=callback_dedupe_key(callback_id),  # as the normal path: answered once
            now=runtime.conversations.clock(),
        )
