"""Typed SQLAlchemy models: conversations, messages, referrals, consent and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from case_store.types import EncryptedJSON, EncryptedText, UTCDateTime

EMAIL_LENGTH = 254  # the longest email address there can be (RFC 5321), so the longest login
# Who the audit trail names: "staff:{login email}" (webhooks/dashboard/auth.py) or "token:{name}".
ACTOR_LENGTH = len("staff:") + EMAIL_LENGTH


class Base(DeclarativeBase):
    """Declarative base for every table."""


def _ts(nullable: bool = False) -> Any:
    """A time-zone-aware timestamp column."""
    return mapped_column(UTCDateTime(), nullable=nullable)


class Conversation(Base):
    """One person's chat with the service on one channel address."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address_hash", name="uq_conversation_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(EncryptedText)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24), default="active")
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    language: Mapped[str] = mapped_column(String(16), default="en")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    created_at: Mapped[datetime] = _ts()
    last_activity_at: Mapped[datetime] = _ts()

    messages: Mapped[list[Message]] = relationship(back_populates="conversation")


class Message(Base):
    """An inbound or outbound message; the channel's id for it is unique (dedupe)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_message_channel_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    channel: Mapped[str] = mapped_column(String(16))
    channel_message_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(16), default="received")
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()

    conversation: Mapped[Conversation | None] = relationship(back_populates="messages")


class Referral(Base):
    """A structured referral from any source; personal details live encrypted in `details`."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_queue", "urgent", "created_at"),
        Index("ix_referrals_urgent_id", "urgent", "id"),  # the dashboard's queue order
        Index("ix_referrals_status_urgent_id", "status", "urgent", "id"),  # filtered pages
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(9), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="new", index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    specialist: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()
    first_contact_at: Mapped[datetime | None] = _ts(nullable=True)

    consents: Mapped[list[ConsentRecord]] = relationship(back_populates="referral")


class ConsentRecord(Base):
    """One consent item: what was shown, what was answered, when and where."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(48))
    wording: Mapped[str] = mapped_column(Text)
    wording_hash: Mapped[str] = mapped_column(String(64))
    notice_version: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = _ts()
    withdrawn_at: Mapped[datetime | None] = _ts(nullable=True)

    referral: Mapped[Referral | None] = relationship(back_populates="consents")


UNSENT = ("pending", "sending")  # sends not gone yet (the worker may be sending a "sending" one)
# The same as a partial index's WHERE. A query uses that index only if it says the same,
# with the values written in, not bound (case_store/outbox.py, the claim's walk).
UNSENT_SQL = "status IN ('pending', 'sending')"


class OutboxItem(Base):
    """A send waiting for the worker: SMS, Telegram message or email."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # each recipient's unsent sends in order: the worker's claim walks this
        Index(
            "ix_outbox_unsent_recipient",
            "recipient_hash",
            "id",
            sqlite_where=text(UNSENT_SQL),
            postgresql_where=text(UNSENT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    recipient_hash: Mapped[str] = mapped_column(String(64), index=True)
    recipient: Mapped[str] = mapped_column(EncryptedText)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = _ts()
    lease_until: Mapped[datetime | None] = _ts(nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _ts()
    sent_at: Mapped[datetime | None] = _ts(nullable=True)


class ErasureRecord(Base):
    """That an erasure happened, and when: never what was erased."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    referral_reference: Mapped[str | None] = mapped_column(String(9))
    requested_by: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime] = _ts()


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = _ts()
    last_used_at: Mapped[datetime | None] = _ts(nullable=True)
    revoked_at: Mapped[datetime | None] = _ts(nullable=True)

    @property
    def scope_set(self) -> frozenset[str]:
        """The scopes as a set."""
        return frozenset(self.scopes.split())


class AuditEntry(Base):
    """Who read or changed a referral, what they did, and when."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_reference", "referral_reference", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(40))
    referral_reference: Mapped[str | None] = mapped_column(String(9))
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = _ts()


class ReferralNote(Base):
    """A note on a referral, written by staff; encrypted, as notes may be personal."""

    __tablename__ = "referral_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    author: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = _ts()


class IdempotencyRecord(Base):
    """The first answer to a request with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = _ts()


class Volunteer(Base):
    """A trained volunteer facilitator; name and phone encrypted, found by a keyed hash."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    phone: Mapped[str] = mapped_column(EncryptedText)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()


class Conference(Base):
    """An RJ conference for a referral: when, where, and who is invited."""

    __tablename__ = "conferences"
    __table_args__ = (Index("ix_conferences_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    starts_at: Mapped[datetime] = _ts()
    utc_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    venue: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    min_facilitators: Mapped[int] = mapped_column(Integer, default=2)
    shortage_alerted_at: Mapped[datetime | None] = _ts(nullable=True)
    all_confirmed_at: Mapped[datetime | None] = _ts(nullable=True)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()

    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="conference", order_by="Invitation.id"
    )


class Invitation(Base):
    """One volunteer's invitation to a conference, with a short code for their replies."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("conference_id", "volunteer_id", name="uq_invitation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default="invited")
    status_changed_at: Mapped[datetime] = _ts()
    invited_at: Mapped[datetime] = _ts()
    nudged_at: Mapped[datetime | None] = _ts(nullable=True)
    reminded_at: Mapped[datetime | None] = _ts(nullable=True)

    conference: Mapped[Conference] = relationship(back_populates="invitations")
    events: Mapped[list[InvitationEvent]] = relationship(order_by="InvitationEvent.id")


class InvitationEvent(Base):
    """Each change of an invitation's status, and when."""

    __tablename__ = "invitation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = _ts()


class InvitationSms(Base):
    """An SMS to or from a volunteer about an invitation: a send queued, or a message stored.

    A reply may be about several invitations ("which one do you mean?"): a row for each.
    """

    __tablename__ = "invitation_sms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))


class StaffUser(Base):
    """A co-ordinator's dashboard login; only an argon2 hash of the password is stored."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _ts()
    last_login_at: Mapped[datetime | None] = _ts(nullable=True)
