"""The one intake: the referral object every source hands in, validated the same way."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from bot.answers import parse_phone
from case_store.models import Referral
from case_store.referrals import store_referral

Hope = Literal["conference", "letters", "shuttle", "recorded_message", "not_sure"]
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
Text120 = Field(default=None, max_length=120)


def _phone(value: str | None) -> str | None:
    """A phone number as E.164, or a clear error."""
    if value is None or value == "":
        return None
    parsed = parse_phone(value)
    if parsed is None:
        raise ValueError("not a possible phone number (use E.164, like +447700900123)")
    return parsed


def _email(value: str | None) -> str | None:
    """An email address of plausible shape, or a clear error."""
    if value is None or value == "":
        return None
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


class _Open(BaseModel):
    """Objects that accept extra fields (the design welcomes more) and keep them."""

    model_config = ConfigDict(extra="allow", str_max_length=5000)


class Referrer(_Open):
    """Who is referring: a person at an organisation."""

    name: str = Field(min_length=1, max_length=120)
    organisation: str = Field(min_length=1, max_length=120)
    email: str | None = None
    phone: str | None = None

    _check_phone = field_validator("phone")(_phone)
    _check_email = field_validator("email")(_email)


class Victim(_Open):
    """The person harmed, and how to contact them safely: a phone or an email is required."""

    model_config = ConfigDict(
        extra="allow",
        str_max_length=5000,
        json_schema_extra={"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]},
    )

    name: str = Field(min_length=1, max_length=120)
    phone: str | None = None
    email: str | None = None
    preferred_contact: Literal["text", "call", "email", "letter", "any"] | None = None
    safe_times: list[str] | str | None = None
    may_identify_service: bool | None = None
    voicemail_ok: bool | None = None
    language: str | None = Field(default=None, max_length=60)
    age_band: Literal["adult", "under_18"] | None = None
    access_needs: str | None = Field(default=None, max_length=1000)

    _check_phone = field_validator("phone")(_phone)
    _check_email = field_validator("email")(_email)

    @model_validator(mode="after")
    def _reachable(self) -> Victim:
        """We need a phone number or an email address."""
        if not self.phone and not self.email:
            raise ValueError("give the victim's phone or email")
        return self


class Offence(_Open):
    """What happened, as categories."""

    type: str | None = Field(default=None, max_length=60)
    date: str | None = Field(default=None, max_length=20)
    reported_to_police: bool | Literal["yes", "no", "not_sure"] | None = None
    crime_reference: str | None = Field(default=None, max_length=40)
    person_known: bool | None = None
    relationship: str | None = Field(default=None, max_length=60)


class Consent(_Open):
    """The consent record: it must say consent was given."""

    given: Literal[True]
    method: str | None = Field(default=None, max_length=40)
    recorded_at: datetime | None = None
    items: dict[str, Any] = Field(default_factory=dict)


class ReferralIn(_Open):
    """A referral from the Victims' Hub, a police officer or a partner agency."""

    source: Literal["victims_hub", "police", "partner_agency"]
    referrer: Referrer
    victim: Victim
    offence: Offence = Field(default_factory=Offence)
    hopes: list[Hope] = Field(default_factory=list, max_length=5)
    consent: Consent
    notes: str | None = Field(default=None, max_length=5000)


class SelfReferral(_Open):
    """A referral a person made themselves by SMS, Telegram or the web chat."""

    source: Literal["self"]
    channel: Literal["sms", "telegram", "web"]
    victim: dict[str, Any]
    offence: dict[str, Any] = Field(default_factory=dict)
    hopes: list[Hope] = Field(default_factory=list)
    consent: Consent
    flags: list[str] = Field(default_factory=list)
    urgent: bool = False


def submit(
    session: Session,
    record: ReferralIn | SelfReferral,
    *,
    reference: str,
    now: datetime,
    channel: str | None = None,
) -> Referral:
    """Store a validated referral from any source: the one code path into the queue."""
    payload = record.model_dump(mode="json")
    payload["channel"] = channel or payload.get("channel", "api")
    return store_referral(session, payload, reference=reference, now=now)
