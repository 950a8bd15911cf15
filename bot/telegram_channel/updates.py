"""Turn Telegram updates into inbound messages: text, commands and button presses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from telegram import CallbackQuery, Message, Update

from bot.render import Renderer
from bot.service import ConversationService, Inbound, Outcome, TurnEnd
from bot.telegram_channel.clear_chat import CLEAR_STEP, ClearChatOffer, queue_clear
from case_store.conversations import already_received, find_conversation, record_message
from case_store.db import Database
from case_store.models import Conversation
from case_store.outbox import enqueue
from case_store.telegram_ids import callback_dedupe_key, edit_dedupe_key, sent_message_key

CHANNEL = "telegram"


class NotAnUpdate(ValueError):
    """The body is JSON but not a Telegram Update."""


def parse_update(data: Any) -> Update:
    """A PTB Update from a decoded JSON body, or NotAnUpdate."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise NotAnUpdate("no update_id")
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise NotAnUpdate(str(type(exc).__name__)) from exc
    _check_shape(update)
    return update


MAX_ID = 2**53  # Telegram's ids fit in 53 bits; bigger ones are not from Telegram


def _check_shape(update: Update) -> None:
    """NotAnUpdate unless the parts we read are there (de_json accepts nearly anything)."""
    ids = [update.update_id]
    query, message = update.callback_query, update.message
    if query is not None:
        if getattr(query, "from_user", None) is None or not isinstance(query.id, str):
            raise NotAnUpdate("a button press without its sender")
        message = query.message if isinstance(query.message, Message) else None
    if message is not None:
        if getattr(message, "chat", None) is None or not isinstance(message.chat.id, int):
            raise NotAnUpdate("a message without its chat")
        ids += [message.message_id, message.chat.id]
    if not all(isinstance(i, int) and -MAX_ID < i < MAX_ID for i in ids):
        raise NotAnUpdate("an id out of range")


@dataclass
class ButtonPress:
    """Answers a button press in the same transaction as the message it carries."""

    query: CallbackQuery
    step: str | None
    answer: str
    old_button_note: str

    def accept(self, conversation: Conversation) -> bool:
        """Only a button for the question now asked may answer it (a pending confirm first)."""
        asked = conversation.state.get("pending") or conversation.step
        return self.step is not None and self.step == asked

    def after(self, turn: TurnEnd) -> None:
        """Always answer the press; show the choice back on the question once answered."""
        session, now = turn.session, turn.now
        note = None if turn.stepped else self.old_button_note
        answer_press(session, self.query.id, note, now)
        message = self.query.message
        text = getattr(message, "text", None)
        if turn.stepped and message is not None and text:
            label = _pressed_label(self.query)
            key = sent_message_key(message.chat.id, message.message_id)  # no plain chat id
            _queue(
                session,
                f"edit:{key}",
                {
                    "method": "edit_text",
                    "chat_id": str(message.chat.id),  # encrypted with the payload
                    "message_id": message.message_id,
                    "text": f"{text}\n\n» {label}",
                },
                now,
                dedupe_key=edit_dedupe_key(key),  # how erasure finds it (case_store/outbox)
            )


def _pressed_label(query: CallbackQuery) -> str:
    """The label of the button that was pressed."""
    markup = getattr(query.message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()):
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return "OK"


def _queue(
    session: Session,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
) -> None:
    """Queue a Bot API call that is not a chat message (so it is not paced behind them)."""
    enqueue(
        session,
        kind=CHANNEL,
        recipient=recipient,
        payload=payload,
        dedupe_key=dedupe_key or f"tg:{recipient}",
        now=now,
    )


def answer_press(session: Session, callback_id: str, text: str | None, now: datetime) -> None:
    """Queue the answer to a button press, once per press (keyed by a hash of its id)."""
    _queue(
        session,
        f"cb:{callback_id}",
        {"method": "answer_callback", "callback_id": callback_id, "text": text},
        now,
        dedupe_key=callback_dedupe_key(callback_id),
    )


def read_button(data: str | None) -> tuple[str | None, str]:
    """(step, answer) from our callback data; step None for a version we no longer know."""
    parts = (data or "").split(":", 2)
    if len(parts) != 3 or parts[0] != "v1":
        return None, ""
    return parts[1], parts[2]


class UpdateHandler:
    """Everything a Telegram update can be: a message, a command, a button, or neither."""

    def __init__(self, service: ConversationService, db: Database) -> None:
        """Hand text to the conversation service; note the rest once."""
        self.service, self.db = service, db
        self.renderer = Renderer(CHANNEL, service.profile)

    def handle(self, update: Update) -> Outcome | None:
        """Handle one update; None when it needed no conversation step."""
        update_key = f"u{update.update_id}"
        if update.callback_query is not None:
            return self._button(update.callback_query, update_key)
        message = update.message
        if message is None or message.chat.type != "private":
            self._note_only(update_key)
            return None
        inbound_key = f"{update_key}:m{message.message_id}"
        if message.text is None:
            self._not_text(str(message.chat.id), inbound_key)
            return None
        inbound = Inbound(CHANNEL, str(message.chat.id), message.text, message_id=inbound_key)
        return self.service.handle(inbound, delivery="outbox", hook=ClearChatOffer(self.renderer))

    def _button(self, query: CallbackQuery, update_key: str) -> Outcome | None:
        """A button press answers the question it belongs to, and only that one."""
        step, answer = read_button(query.data)
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        if step == CLEAR_STEP:
            self._clear_chat(query, str(chat), update_key)
            return None
        inbound = Inbound(CHANNEL, str(chat), answer or "?", message_id=update_key)
        press = ButtonPress(query, step, answer, self.renderer.text("old_button"))
        hook = ClearChatOffer(self.renderer, press)
        return self.service.handle(inbound, delivery="outbox", hook=hook)

    def _clear_chat(self, query: CallbackQuery, chat: str, update_key: str) -> None:
        """The "Clear this chat" button: answer it, and queue the clearing once per offer."""
        with self.db.transaction() as session:
            if already_received(session, CHANNEL, update_key):
                return
            now = self.service.clock()
            conversation = find_conversation(session, CHANNEL, chat)
            record_message(
                session,
                conversation,
                "in",
                None,
                now,
                channel=CHANNEL,
                channel_message_id=update_key,
                status="clear_chat",
            )
            answer_press(session, query.id, None, now)
            if query.message is not None:
                offer = query.message.message_id
                queue_clear(session, conversation, chat, offer, self.renderer, now)

    def _note_only(self, update_key: str) -> None:
        """Record an update we do not act on (edits, group chats), so a repeat is ignored."""
        with self.db.transaction() as session:
            if not already_received(session, CHANNEL, update_key):
                record_message(
                    session,
                    None,
                    "in",
                    None,
                    self.service.clock(),
                    channel=CHANNEL,
                    channel_message_id=update_key,
                    status="ignored",
                )

    def _not_text(self, chat_id: str, inbound_key: str) -> None:
        """A sticker, photo or voice note: say kindly that we read text only."""
        with self.db.transaction() as session:
            if already_received(session, CHANNEL, inbound_key):
                return
            now = self.service.clock()
            record_message(
                session,
                None,
                "in",
                None,
                now,
                channel=CHANNEL,
                channel_message_id=inbound_key,
                status="not_text",
            )
            enqueue(
                session,
                kind=CHANNEL,
                recipient=chat_id,
                payload={"text": self.renderer.text("not_text")},
                dedupe_key=f"not-text:{inbound_key}",
                now=now,
            )
