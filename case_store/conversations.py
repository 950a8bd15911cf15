"""Queries for conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from case_store.crypto import current_vault
from case_store.models import Conversation, Message

# The status of a conversation whose person erased their data (DELETE, or staff on request).
ERASED = "deleted"


def address_hash(channel: str, address: str) -> str:
    """The keyed hash that finds a conversation by its channel address."""
    return current_vault().lookup_hash(f"{channel}:{address}")


def find_conversation(session: Session, channel: str, address: str) -> Conversation | None:
    """The conversation for an address, locked for update where the database can."""
    found = session.scalars(
        _BY_ADDRESS, {"channel": channel, "address_hash": address_hash(channel, address)}
    )
    return found.one_or_none()


# Built once: every inbound message looks its conversation up.
_BY_ADDRESS = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"),
        Conversation.address_hash == bindparam("address_hash"),
    )
    .with_for_update()
)


def open_conversation(
    session: Session, channel: str, address: str, flow: str, now: datetime
) -> Conversation:
    """The conversation for an address, created if it is new."""
    found = find_conversation(session, channel, address)
    if found is not None:
        if not found.address:  # purged or erased: kept only to honour an opt-out; back for now
            found.address = address
        return found
    conversation = Conversation(
        channel=channel,
        address_hash=address_hash(channel, address),
        address=address,
        flow=flow,
        step=None,
        status="new",
        state={},
        created_at=now,
        last_activity_at=now,
    )
    session.add(conversation)
    session.flush()
    return conversation


def save_turn(session: Session, conversation: Conversation, **values: object) -> None:
    """Store a turn's new state (every one of `_TURN_COLUMNS`) with one Core UPDATE.

    The object is given the same values as already stored, so the ORM has nothing more to
    flush for them: every message saves its conversation, and the ORM's unit of work cost
    more than the statement. Later changes to the object in the turn flush as usual.
    """
    session.execute(_SAVE_TURN, {"conversation_id": conversation.id, **values})
    for name, value in values.items():
        set_committed_value(conversation, name, value)


_TURN_COLUMNS = ("state", "step", "status", "opted_out", "last_activity_at", "urgent")
_CONVERSATIONS = cast(Table, Conversation.__table__)
_SAVE_TURN = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values({name: bindparam(name) for name in _TURN_COLUMNS})
)


def forget_address(conversation: Conversation) -> None:
    """Drop the address (the phone number or chat id); its keyed hash stays, so the same
    person writing again finds this conversation, and a STOP they sent is still honoured."""
    conversation.address = ""


def end_turn(conversation: Conversation) -> None:
    """After handling a message: an erased conversation keeps no address between messages.

    The address is back during a turn (`open_conversation`) so the replies of that turn can
    be queued; a send to an erased conversation drops its copy once made (case_store/outbox).
    """
    if conversation.status == ERASED:
        forget_address(conversation)


def already_received(session: Session, channel: str, channel_message_id: str) -> bool:
    """True when this channel message id has been recorded before."""
    found = session.connection().execute(
        _RECEIVED, {"channel": channel, "channel_message_id": channel_message_id}
    )
    return found.first() is not None


# Core, built once: the duplicate check runs for every inbound message.
_RECEIVED = (
    select(Message.__table__.c.id)
    .where(
        Message.__table__.c.channel == bindparam("channel"),
        Message.__table__.c.channel_message_id == bindparam("channel_message_id"),
    )
    .limit(1)
)


def channel_message_ids(
    session: Session, conversation_id: int, channel: str
) -> list[tuple[str, datetime]]:
    """(channel message id, when recorded) for each of a conversation's messages that has one."""
    query = (
        select(Message.channel_message_id, Message.created_at)
        .where(
            Message.conversation_id == conversation_id,
            Message.channel == channel,
            Message.channel_message_id.is_not(None),
        )
        .order_by(Message.id)
    )
    return [(str(key), at) for key, at in session.execute(query)]


def record_message(
    session: Session,
    conversation: Conversation | None,
    direction: str,
    body: str | None,
    now: datetime,
    *,
    channel: str,
    channel_message_id: str | None = None,
    status: str = "received",
) -> Message:
    """Store one message (its body encrypted)."""
    message = Message(
        conversation_id=conversation.id if conversation else None,
        direction=direction,
        channel=channel,
        channel_message_id=channel_message_id,
        body=body,
        status=status,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    return message


def record_inbound(
    session: Session,
    conversation: Conversation,
    body: str | None,
    now: datetime,
    *,
    channel_message_id: str | None,
) -> int:
    """Store an inbound message of a conversation (body encrypted); its id.

    One Core INSERT ... RETURNING: the hot path needs the id, not an ORM object to flush.
    """
    row = _message_row(conversation, "in", body, now, "received", channel_message_id)
    table = cast(Table, Message.__table__)
    return int(session.execute(insert(table).returning(table.c.id), row).scalar_one())


def _message_row(
    conversation: Conversation,
    direction: str,
    body: str | None,
    now: datetime,
    status: str,
    channel_message_id: str | None = None,
) -> dict[str, object]:
    """A messages row for a Core insert."""
    return {
        "conversation_id": conversation.id,
        "direction": direction,
        "channel": conversation.channel,
        "channel_message_id": channel_message_id,
        "body": body,
        "status": status,
        "error_code": None,
        "created_at": now,
        "updated_at": now,
    }


def record_messages(
    session: Session,
    conversation: Conversation,
    direction: str,
    bodies: list[str],
    now: datetime,
    *,
    status: str,
    with_ids: bool = False,
) -> list[int]:
    """Store several messages of one conversation in one statement (bodies encrypted).

    Their ids, in order, when `with_ids`; otherwise an executemany with no RETURNING.
    """
    rows = [_message_row(conversation, direction, body, now, status) for body in bodies]
    if not rows:
        return []
    table = cast(Table, Message.__table__)
    if not with_ids:
        session.execute(insert(table), rows)
        return []
    stored = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [row.id for row in stored]
