"""/api/v1: one intake for every source, the queue, lifecycle, audit and figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from case_store.models import AuditEntry, OutboxItem, Referral
from tests.api_helpers import agency_referral, json_body, make_token
from tests.helpers import HAPPY_PATH
from tests.twilio_helpers import sms, twilio_env
from webhooks.runtime import Runtime

ALL = ("referrals:read", "referrals:write")


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service with SMS on, so self-referrals can arrive too."""
    return make_app(**twilio_env())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


def rt(app: Flask) -> Runtime:
    """The app's runtime."""
    runtime: Runtime = app.extensions["rj"]
    return runtime


def referral_count(app: Flask) -> int:
    """How many referrals are stored."""
    with rt(app).db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Referral)) or 0)


def test_agency_and_sms_referrals_land_in_one_queue(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL)
    created = client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    assert created.status_code == 201
    referral = json_body(created)
    assert referral["reference"] == "RJ-000001" and referral["status"] == "new"
    for text in HAPPY_PATH:
        sms(client, text)
    queue = json_body(client.get("/api/v1/referrals", headers=headers))["items"]
    assert [(r["reference"], r["source"], r["channel"]) for r in queue] == [
        ("RJ-000002", "self", "sms"),
        ("RJ-000001", "victims_hub", "api"),
    ]
    assert queue[1]["victim"]["phone"] == "+447700900456"
    assert queue[0]["victim"]["name"] == "Sam Quayle"


def test_agency_referral_emails_the_coordinator(app: Flask, client: FlaskClient) -> None:
    client.post("/api/v1/referrals", json=agency_referral(), headers=make_token(rt(app), *ALL))
    with rt(app).db.transaction() as s:
        email = s.scalars(select(OutboxItem).where(OutboxItem.kind == "email")).one()
        assert email.payload["subject"] == "New RJ referral RJ-000001 (victims_hub, api)"
        assert "Jordan" not in email.payload["text"]


def test_no_token_wrong_token_and_missing_scope(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/v1/referrals").status_code == 401
    bad = {"Authorization": "Bearer rjt_not-a-real-token"}
    assert client.get("/api/v1/referrals", headers=bad).status_code == 401
    read_only = make_token(rt(app), "referrals:read")
    response = client.post("/api/v1/referrals", json=agency_referral(), headers=read_only)
    assert response.status_code == 403
    assert json_body(response)["error"]["code"] == "forbidden"
    assert referral_count(app) == 0


def test_a_revoked_token_is_refused(app: Flask, client: FlaskClient) -> None:
    from case_store.tokens import revoke_token

    headers = make_token(rt(app), *ALL)
    with rt(app).db.transaction() as s:
        revoke_token(s, 1, rt(app).conversations.clock())
    assert client.get("/api/v1/referrals", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "self"}, "source"),
        ({"referrer": {"name": "", "organisation": "Hub"}}, "referrer.name"),
        ({"victim": {"name": "Jo"}}, "victim"),
        ({"victim": {"name": "Jo", "phone": "12"}}, "victim.phone"),
        ({"consent": {"given": False}}, "consent.given"),
        ({"hopes": ["revenge"]}, "hopes.0"),
    ],
)
def test_invalid_fields_are_422_naming_each(
    app: Flask, client: FlaskClient, change: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/v1/referrals", json=agency_referral(**change), headers=make_token(rt(app), *ALL)
    )
    assert response.status_code == 422
    assert json_body(response)["error"]["code"] == "invalid_fields"
    assert any(key.startswith(field) for key in json_body(response)["error"]["fields"])
    assert referral_count(app) == 0


def test_malformed_json_and_wrong_content_type_are_400(app: Flask, client: FlaskClient) -> None:
    headers = {**make_token(rt(app), *ALL), "Content-Type": "application/json"}
    assert client.post("/api/v1/referrals", data="{not json", headers=headers).status_code == 400
    form = make_token(rt(app), *ALL)
    assert client.post("/api/v1/referrals", data={"a": "b"}, headers=form).status_code == 400
    assert referral_count(app) == 0


def test_idempotency_key_returns_the_first_result(app: Flask, client: FlaskClient) -> None:
    headers = {**make_token(rt(app), *ALL), "Idempotency-Key": "hub-4711"}
    first = client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    again = client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json == again.json and referral_count(app) == 1
    other = client.post("/api/v1/referrals", json=agency_referral(notes="x"), headers=headers)
    assert other.status_code == 409


HOSTILE = (
    'Robert\'); DROP TABLE referrals;-- <script>alert(1)</script> \U0001f600 \u202eabc\u202c "q"'
)


def test_hostile_text_is_stored_and_returned_exactly(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL)
    body = agency_referral(notes=HOSTILE)
    body["victim"]["name"] = HOSTILE
    reference = json_body(client.post("/api/v1/referrals", json=body, headers=headers))["reference"]
    shown = json_body(client.get(f"/api/v1/referrals/{reference}", headers=headers))
    assert shown["victim"]["name"] == HOSTILE
    assert shown["notes"] == [] and shown["referrer"]["name"] == "Priya Shah"
    with rt(app).db.transaction() as s:
        assert s.scalars(select(Referral)).one().details["notes"] == HOSTILE


def test_unknown_reference_is_404(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/v1/referrals/RJ-ZZZZZZ", headers=make_token(rt(app), *ALL))
    assert response.status_code == 404
    assert json_body(response)["error"]["code"] == "not_found"


def test_lifecycle_changes_notes_and_illegal_moves(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL, name="Co-ordinator script")
    ref = json_body(client.post("/api/v1/referrals", json=agency_referral(), headers=headers))[
        "reference"
    ]
    url = f"/api/v1/referrals/{ref}"
    moved = client.patch(
        url, json={"status": "contacted", "note": "Spoke on the phone."}, headers=headers
    )
    assert moved.status_code == 200 and json_body(moved)["status"] == "contacted"
    assert json_body(moved)["first_contact_at"] is not None
    assert json_body(moved)["notes"][0]["text"] == "Spoke on the phone."
    illegal = client.patch(url, json={"status": "completed"}, headers=headers)
    assert (
        illegal.status_code == 409 and json_body(illegal)["error"]["code"] == "illegal_transition"
    )
    assert client.patch(url, json={"status": "flying"}, headers=headers).status_code == 422
    assert json_body(client.get(url, headers=headers))["status"] == "contacted"


def test_every_read_and_change_is_audited(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL, name="Police team")
    ref = json_body(client.post("/api/v1/referrals", json=agency_referral(), headers=headers))[
        "reference"
    ]
    client.get(f"/api/v1/referrals/{ref}", headers=headers)
    client.patch(f"/api/v1/referrals/{ref}", json={"status": "contacted"}, headers=headers)
    client.get("/api/v1/referrals", headers=headers)
    with rt(app).db.transaction() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action) for e in entries] == [
        ("token:Police team", "created"),
        ("token:Police team", "viewed"),
        ("token:Police team", "status"),
        ("token:Police team", "listed"),
    ]
    assert all(e.referral_reference == ref for e in entries)


def test_queue_filters_and_cursor_pages(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL)
    for source in ("police", "partner_agency", "police", "victims_hub", "police"):
        client.post("/api/v1/referrals", json=agency_referral(source=source), headers=headers)
    police = json_body(client.get("/api/v1/referrals?source=police&limit=2", headers=headers))
    assert [r["reference"] for r in police["items"]] == ["RJ-000005", "RJ-000003"]
    rest = json_body(
        client.get(
            f"/api/v1/referrals?source=police&limit=2&cursor={police['next_cursor']}",
            headers=headers,
        )
    )
    assert [r["reference"] for r in rest["items"]] == ["RJ-000001"] and rest["next_cursor"] is None
    assert json_body(client.get("/api/v1/referrals?urgent=true", headers=headers))["items"] == []
    assert client.get("/api/v1/referrals?cursor=zzz", headers=headers).status_code == 422
    assert client.get("/api/v1/referrals?limit=0", headers=headers).status_code == 422


def test_stats_by_source_and_channel(app: Flask, client: FlaskClient) -> None:
    headers = make_token(rt(app), *ALL)
    client.post("/api/v1/referrals", json=agency_referral(source="police"), headers=headers)
    for text in HAPPY_PATH:
        sms(client, text)
    figures = json_body(client.get("/api/v1/stats?from=2026-11-01&to=2026-11-30", headers=headers))
    assert figures["total"] == 2
    assert figures["by_source"] == {"victims_hub": 0, "police": 1, "partner_agency": 0, "self": 1}
    assert figures["by_channel"]["sms"] == 1 and figures["by_channel"]["api"] == 1
    assert figures["live"] == 2
    empty = json_body(client.get("/api/v1/stats?from=2025-01-01&to=2025-01-31", headers=headers))
    assert empty["total"] == 0


def test_openapi_document_describes_the_api(client: FlaskClient) -> None:
    document = json_body(client.get("/api/v1/openapi.json"))
    assert set(document["paths"]) >= {
        "/api/v1/referrals",
        "/api/v1/referrals/{reference}",
        "/api/v1/stats",
    }
    assert "/webhooks/twilio/sms" not in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
