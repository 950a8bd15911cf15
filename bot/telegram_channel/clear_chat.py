"""Clearing a Telegram chat: offered at the end of a referral and after DELETE.

Telegram is the one channel where we can take our words back: in a private chat a bot may
delete any message, its own or the person's, until it is 48 hours old. No new storage is
needed for that. Every message row already keeps Telegram's id in `channel_message_id`
("u{update_id}:m{message_id}" for what the person typed, "c{hash of the chat}:m{message_id}"
for what we sent, see case_store/telegram_ids.py; a button press, "u{update_id}", is not a
message), and an erasure blanks the bodies but keeps those rows. So the ids are read only when
the person presses the button; the chat id itself is never stored in plain text, only
encrypted (the conversation's address, the outbox item's recipient).

- The offer: `ClearChatOffer`, the hook on every Telegram turn, sees whether the turn finished
  a referral or erased the person's data, and if so queues one more message, with a "Clear this
  chat" button, in the same transaction.
- The press: `queue_clear()` splits the chat's message ids into those young enough to delete
  and those too old, and queues one outbox item for the sender: delete (deleteMessages, 100 a
  call), then send one message saying how it went. The words for each outcome are rendered
  here, from templates, so the sender only chooses between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.render import Renderer
from bot.service import TurnEnd, TurnHook
from case_store.conversations import channel_message_ids, record_message
from case_store.models import Conversation
from case_store.outbox import enqueue
from case_store.telegram_ids import sent_message_key

CHANNEL = "telegram"
CLEAR_STEP = "!clear"  # the button's "question": "!" keeps it apart from any flow step's id
CLEAR_ANSWER = "chat"
DELETABLE_FOR = timedelta(hours=48)
# Our times trail Telegram's by the delivery delay, so stop a little short of 48 hours rather
# than tell someone a message went when Telegram quietly kept it.
SAFETY_MARGIN = timedelta(minutes=15)
_TELEGRAM_ID = re.compile(r"(?:^|:)m(\d+)$")


def telegram_message_id(channel_message_id: str) -> int | None:
    """Telegram's message id inside one of our channel message ids (None for a button press)."""
    found = _TELEGRAM_ID.search(channel_message_id)
    return int(found.group(1)) if found else None


def split_by_age(recorded: Iterable[tuple[str, datetime]], now: datetime) -> tuple[list[int], int]:
    """(ids Telegram will still delete, oldest first; how many are too old to delete)."""
    cutoff = now - DELETABLE_FOR + SAFETY_MARGIN
    young: set[int] = set()
    old: set[int] = set()
    for key, at in recorded:
        message_id = telegram_message_id(key)
        if message_id is not None:
            (young if at > cutoff else old).add(message_id)
    return sorted(young), len(old - young)


def queue_clear(
    session: Session,
    conversation: Conversation | None,
    chat_id: str,
    offer_message_id: int,
    renderer: Renderer,
    now: datetime,
) -> bool:
    """Queue the clearing of a chat, once per offer; False when that offer was used before."""
    recorded = channel_message_ids(session, conversation.id, CHANNEL) if conversation else []
    ids, too_old = split_by_age(recorded, now)
    item = enqueue(
        session,
        kind=CHANNEL,
        recipient=chat_id,
        payload={
            "method": "clear_chat",
            "message_ids": ids,
            "texts": {
                "done": renderer.text("chat_cleared", deleted=True, kept=too_old > 0),
                "failed": renderer.text("chat_cleared", deleted=False, kept=not ids),
            },
        },
        dedupe_key=f"clear:{sent_message_key(chat_id, offer_message_id)}",
        now=now,
        conversation_id=conversation.id if conversation else None,
    )
    if item is None:
        return False
    # A row for the closing message, so its Telegram id is kept and a later clear removes it;
    # no body, as its words depend on how the deleting goes.
    closing = record_message(
        session, conversation, "out", None, now, channel=CHANNEL, status="queued"
    )
    item.message_id = closing.id
    return True


def offer_clear(
    session: Session, conversation: Conversation, renderer: Renderer, now: datetime
) -> None:
    """Offer to clear the chat: one message with one button (a fixed label, never an answer)."""
    reference = conversation.state.get("reference") if conversation.status == "finished" else None
    text = renderer.text("clear_chat_offer", reference=reference)
    offer = record_message(
        session, conversation, "out", text, now, channel=CHANNEL, status="queued"
    )
    enqueue(
        session,
        kind=CHANNEL,
        recipient=conversation.address,
        payload={
            "text": text,
            "buttons": [[renderer.text("clear_chat_button"), CLEAR_ANSWER]],
            "step": CLEAR_STEP,
        },
        dedupe_key=f"clear-offer:{offer.id}",
        now=now,
        conversation_id=conversation.id,
        message_id=offer.id,
    )


# The engine's effects that end the talk: a referral made, the person's data erased.
ENDING_EFFECTS = frozenset({"finish_referral", "erase"})


@dataclass
class ClearChatOffer:
    """The hook on every Telegram turn: offers to clear the chat when the turn ends the talk.

    A turn ends it when its step finished a referral or erased the person's data (a DELETE
    they confirmed). `inner` is the button press, if the turn came from one, whose own
    checks and answers come first.
    """

    renderer: Renderer
    inner: TurnHook | None = None

    def accept(self, conversation: Conversation) -> bool:
        """Defer to the press, if any."""
        return self.inner is None or self.inner.accept(conversation)

    def after(self, turn: TurnEnd) -> None:
        """Answer the press, then offer to clear the chat if this turn ended the talk."""
        if self.inner is not None:
            self.inner.after(turn)
        if turn.stepped and turn.effects & ENDING_EFFECTS:
            offer_clear(turn.session, turn.conversation, self.renderer, turn.now)
