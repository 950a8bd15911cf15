"""Tokens, sample bodies and JSON answers for API tests."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from case_store.tokens import create_token
from webhooks.runtime import Runtime


def make_token(runtime: Runtime, *scopes: str, name: str = "Victims' Hub") -> dict[str, str]:
    """Authorization headers for a fresh token with `scopes`."""
    with runtime.db.transaction() as session:
        token, _ = create_token(session, name, list(scopes), runtime.conversations.clock())
    return {"Authorization": f"Bearer {token}"}


def json_body(response: TestResponse) -> dict[str, Any]:
    """The JSON object a response carries; the test fails here if it carries anything else."""
    body = response.get_json()
    assert isinstance(body, dict), f"not a JSON object: {response.status} {response.text[:300]}"
    return body


def agency_referral(**changes: Any) -> dict[str, Any]:
    """A complete, valid referral from the Victims' Hub."""
    body: dict[str, Any] = {
        "source": "victims_hub",
        "referrer": {
            "name": "Priya Shah",
            "organisation": "Victims' Hub",
            "email": "priya@hub.example.org",
            "phone": "01632 960001",
        },
        "victim": {
            "name": "Jordan Ellis",
            "phone": "07700 900456",
            "preferred_contact": "call",
            "safe_times": ["weekday_daytime"],
            "may_identify_service": True,
            "voicemail_ok": False,
            "language": "English",
            "age_band": "adult",
        },
        "offence": {
            "type": "burglary_theft",
            "date": "2025-06",
            "reported_to_police": True,
            "crime_reference": "CF0123450625",
            "person_known": False,
        },
        "hopes": ["letters"],
        "consent": {
            "given": True,
            "method": "phone",
            "recorded_at": "2026-11-20T14:00:00+00:00",
            "items": {"contact": True, "police_check": True},
        },
        "notes": "Prefers mornings.",
    }
    body.update(changes)
    return body
