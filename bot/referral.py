"""Turn a finished self-referral conversation into the same referral object the API accepts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.state import State

CONSENT_ITEMS = (
    "privacy",
    "contact",
    "police_check",
    "voluntary",
    "withdraw",
    "share",
    "follow_up",
)


def _yes(value: Any) -> bool | None:
    """yes/no answers as booleans; anything else as None."""
    return {"yes": True, "no": False}.get(str(value)) if value is not None else None


def _victim(a: dict[str, Any], channel: str, address: str | None) -> dict[str, Any]:
    """The victim's details and contact preferences."""
    phone = a.get("phone")
    if a.get("use_this_number") == "yes" and channel == "sms":
        phone = address
    return {
        "name": a.get("name"),
        "phone": phone,
        "email": a.get("email"),
        "preferred_contact": a.get("contact_method"),
        "safe_times": a.get("safe_times") or [],
        "may_identify_service": _yes(a.get("may_identify")),
        "voicemail_ok": _yes(a.get("voicemail_ok")),
        "language": a.get("language_other") or a.get("language"),
        "communication": a.get("communication"),
        "age_band": a.get("age_band"),
        "access_needs": a.get("access_needs"),
        "must_not_know": a.get("must_not_know"),
        "support_worker": a.get("support_worker_details"),
        "guardian_contact": a.get("guardian_contact"),
    }


def _offence(a: dict[str, Any]) -> dict[str, Any]:
    """What happened, as categories, never a narrative."""
    return {
        "type": a.get("offence_type"),
        "date": a.get("when"),
        "in_area": a.get("in_area"),
        "reported_to_police": a.get("reported"),
        "crime_reference": a.get("crime_ref"),
        "person_known": _yes(a.get("person_known")),
        "relationship": a.get("relationship"),
        "offender_under_18": a.get("offender_under_18"),
    }


def build_referral(
    state: State, channel: str, address: str | None, now: datetime
) -> dict[str, Any]:
    """The intake-shaped referral for a finished conversation."""
    a = state.answers
    items = {item: a.get(f"consent_{item}") for item in CONSENT_ITEMS if f"consent_{item}" in a}
    return {
        "source": "self",
        "channel": channel,
        "victim": _victim(a, channel, address),
        "offence": _offence(a),
        "hopes": a.get("hopes") or [],
        "supporter": _yes(a.get("supporter")),
        "consent": {
            "given": True,
            "method": channel,
            "recorded_at": now.isoformat(),
            "items": items,
        },
        "flags": list(state.flags),
        "urgent": state.urgent,
    }
