"""Response and query schemas of the JSON API (the intake schema lives in case_store.intake)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from case_store.lifecycle import STATUSES

Status = Literal[
    "new", "contacted", "assessing", "conference_scheduled", "completed", "closed", "withdrawn"
]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """Every error answer."""

    error: ErrorDetail


class Created(BaseModel):
    """The answer to an accepted referral."""

    reference: str = Field(pattern=r"^RJ-[0-9A-Z]{6}$")
    status: Status
    created_at: datetime


class Note(BaseModel):
    """A note on a referral."""

    author: str
    text: str
    created_at: datetime


class ReferralOut(BaseModel):
    """A referral as the API shows it."""

    model_config = ConfigDict(extra="allow")

    reference: str
    source: Literal["self", "victims_hub", "police", "partner_agency"]
    channel: Literal["sms", "telegram", "web", "api"]
    status: Status
    urgent: bool
    specialist: bool
    created_at: datetime
    updated_at: datetime
    first_contact_at: datetime | None = None
    victim: dict[str, Any] = Field(default_factory=dict)
    referrer: dict[str, Any] | None = None
    offence: dict[str, Any] = Field(default_factory=dict)
    hopes: list[str] = Field(default_factory=list)
    consent: dict[str, Any] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)


class ReferralPage(BaseModel):
    """One page of the queue, newest first."""

    items: list[ReferralOut]
    next_cursor: str | None = None


class ListQuery(BaseModel):
    """Filters and paging for the queue."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    source: Literal["self", "victims_hub", "police", "partner_agency"] | None = None
    urgent: bool | None = None
    since: datetime | None = None
    cursor: str | None = Field(default=None, pattern=r"^c[0-9]{1,9}$")
    limit: int = Field(default=50, ge=1, le=200)


class ReferralPatch(BaseModel):
    """A status change, a note, or both."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    note: str | None = Field(default=None, min_length=1, max_length=5000)


class StatsQuery(BaseModel):
    """The period for the board figures (inclusive dates: days in the service's time zone)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


class Stats(BaseModel):
    """The board figures for a period."""

    model_config = ConfigDict(extra="allow")

    period: dict[str, str | None]
    total: int
    by_source: dict[str, int]
    by_channel: dict[str, int]
    by_status: dict[str, int]
    urgent: int
    reached_conference: int
    conferences_held: int
    conferences_not_held: int
    conferences_awaiting_outcome: int
    live: int
    closed: int
    withdrawn: int
    median_days_to_first_contact: float | None


class VolunteerIn(BaseModel):
    """A new volunteer facilitator."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(
        min_length=7,
        max_length=20,
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="E.164, like +447700900123",
    )
    active: bool = True
    skills: list[str] = Field(default_factory=list, max_length=20)


class VolunteerOut(BaseModel):
    """A volunteer as the API shows them."""

    id: int
    name: str
    phone: str
    active: bool
    skills: list[str]
    created_at: datetime


class VolunteerList(BaseModel):
    """Every volunteer."""

    items: list[VolunteerOut]


class ConferenceIn(BaseModel):
    """A conference to arrange for a referral."""

    model_config = ConfigDict(extra="forbid")

    referral: str = Field(pattern=r"^RJ-[0-9A-Z]{6}$")
    starts_at: datetime = Field(description="ISO 8601 with a UTC offset")
    venue: str = Field(min_length=1, max_length=80, description="kept short to fit one SMS")
    volunteers: list[int] = Field(min_length=1, max_length=20)
    min_facilitators: int = Field(default=2, ge=1, le=20)


class ConferenceChange(BaseModel):
    """A new time or place for a conference; everyone invited is told."""

    model_config = ConfigDict(extra="forbid")

    starts_at: datetime | None = None
    venue: str | None = Field(default=None, min_length=1, max_length=80)


class InvitationOut(BaseModel):
    """One volunteer's invitation and its state."""

    volunteer: int
    status: Literal["invited", "confirmed", "declined", "no_reply", "removed"]
    changed_at: datetime
    code: str
    history: list[dict[str, str]]


class ConferenceOut(BaseModel):
    """A conference and its invitations."""

    id: int
    referral: str
    starts_at: datetime
    venue: str
    status: Literal["scheduled", "cancelled", "held", "not_held"]
    min_facilitators: int
    confirmed: int
    invitations: list[InvitationOut]


class OutcomeIn(BaseModel):
    """What became of a conference once its start had passed."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["held", "not_held"] = Field(
        description="held, or not_held when it did not go ahead"
    )
