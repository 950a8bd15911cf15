"""Recording a conference's outcome through the API, by the dashboard's rules.

POST /api/v1/referrals/{reference}/conferences/{id}/outcome with {"outcome": "held" |
"not_held"}, scope conferences:write: refused as the dashboard refuses (409 before the start or
once settled, 422 for an unknown outcome), 404 for what is not there; a refusal changes
nothing, and a retry with the same Idempotency-Key acts once.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from case_store.models import OutboxItem
from tests.api_helpers import agency_referral, json_body, make_token
from tests.conference_helpers import ALEX, add_volunteers, audited, conference_for, in_days
from tests.conftest import FrozenClock
from tests.openapi_helpers import operations

Headers = dict[str, str]
Conference = dict[str, Any]
OPERATION = "POST /api/v1/referrals/{reference}/conferences/{conference_id}/outcome"


def path_of(conference: Conference, reference: str | None = None) -> str:
    """The outcome URL of a conference (under another reference if given)."""
    return (
        f"/api/v1/referrals/{reference or conference['referral']}"
        f"/conferences/{conference['id']}/outcome"
    )


def post(
    client: FlaskClient, headers: Headers, path: str, body: Any, key: str | None = None
) -> TestResponse:
    """POST a JSON body, with an Idempotency-Key if given."""
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(path, json=body, headers={**headers, **extra})


def new_conference(
    client: FlaskClient, headers: Headers, clock: FrozenClock, volunteer: int
) -> Conference:
    """A referral from the Victims' Hub and a conference for it in three days."""
    referral = json_body(client.post("/api/v1/referrals", json=agency_referral(), headers=headers))
    return conference_for(client, headers, referral["reference"], in_days(clock, 3), [volunteer])


@pytest.fixture
def volunteer(client: FlaskClient, headers: Headers) -> int:
    """Alex, a volunteer facilitator; their id."""
    return add_volunteers(client, headers, ALEX)[0]


@pytest.fixture
def conference(
    client: FlaskClient, headers: Headers, clock: FrozenClock, volunteer: int
) -> Conference:
    """A conference in three days' time."""
    return new_conference(client, headers, clock, volunteer)


def shown(client: FlaskClient, headers: Headers, conference: Conference) -> tuple[str, str]:
    """(the conference's status, its referral's status) as the API shows them."""
    one = json_body(client.get(f"/api/v1/conferences/{conference['id']}", headers=headers))
    referral = json_body(client.get(f"/api/v1/referrals/{conference['referral']}", headers=headers))
    return one["status"], referral["status"]


def outbox_size(app: Flask) -> int:
    """How many sends have ever been queued."""
    with app.extensions["rj"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxItem)) or 0)


def error_of(response: TestResponse) -> tuple[int, str, str]:
    """(status, error code, message) of an error answer."""
    error = json_body(response)["error"]
    return response.status_code, error["code"], error["message"]


# -- recording it -----------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["held", "not_held"])
def test_an_outcome_is_recorded_audited_and_nothing_else_changes(
    app: Flask,
    client: FlaskClient,
    headers: Headers,
    conference: Conference,
    clock: FrozenClock,
    outcome: str,
) -> None:
    clock.advance(days=4)
    queued = outbox_size(app)
    response = post(client, headers, path_of(conference), {"outcome": outcome})
    assert response.status_code == 200, response.json
    recorded = json_body(response)
    assert (recorded["id"], recorded["status"]) == (conference["id"], outcome)
    # the referral stays where it was: the co-ordinator decides when the case is complete
    assert shown(client, headers, conference) == (outcome, "conference_scheduled")
    assert audited(app, "conference_outcome") == [
        ("token:Co-ordinator", conference["referral"], f"#{conference['id']} {outcome}")
    ]
    assert outbox_size(app) == queued  # nobody is sent anything


# -- refusals: as the dashboard refuses, and nothing changes ----------------------------------
def test_an_outcome_before_the_start_is_409(
    app: Flask, client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=2)
    refused = post(client, headers, path_of(conference), {"outcome": "held"})
    assert error_of(refused) == (
        409,
        "not_started",
        "This conference has not started yet: record what happened once it has.",
    )
    assert shown(client, headers, conference) == ("scheduled", "conference_scheduled")
    assert audited(app, "conference_outcome") == []


def test_a_second_outcome_is_409_and_the_first_stands(
    app: Flask, client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    assert post(client, headers, path_of(conference), {"outcome": "held"}).status_code == 200
    again = post(client, headers, path_of(conference), {"outcome": "not_held"})
    assert error_of(again) == (409, "not_scheduled", "This conference is already recorded as held.")
    assert shown(client, headers, conference)[0] == "held"
    assert len(audited(app, "conference_outcome")) == 1


def test_a_cancelled_conference_has_no_outcome(
    client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    client.post(f"/api/v1/conferences/{conference['id']}/cancel", headers=headers)
    clock.advance(days=4)
    refused = post(client, headers, path_of(conference), {"outcome": "not_held"})
    assert error_of(refused)[:2] == (409, "not_scheduled")
    assert "was cancelled" in error_of(refused)[2]
    assert shown(client, headers, conference)[0] == "cancelled"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"outcome": "postponed"}, 422, "outcome"),
        ({}, 422, "outcome"),
        ({"outcome": "held", "notes": "went well"}, 422, "notes"),
        ("held", 422, None),
    ],
)
def test_a_bad_body_is_refused_and_changes_nothing(
    client: FlaskClient,
    headers: Headers,
    conference: Conference,
    clock: FrozenClock,
    body: Any,
    status: int,
    field: str | None,
) -> None:
    clock.advance(days=4)
    refused = post(client, headers, path_of(conference), body)
    assert refused.status_code == status and json_body(refused)["error"]["code"] == "invalid_fields"
    if field:
        assert any(key.startswith(field) for key in json_body(refused)["error"]["fields"])
    assert shown(client, headers, conference)[0] == "scheduled"


def test_a_body_that_is_not_json_is_400(
    client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    sent = {**headers, "Content-Type": "application/json"}
    refused = client.post(path_of(conference), data="{outcome: held", headers=sent)
    assert error_of(refused)[:2] == (400, "bad_request")
    assert shown(client, headers, conference)[0] == "scheduled"


# -- what is not there ------------------------------------------------------------------------
def test_unknown_references_and_conferences_are_404(
    client: FlaskClient,
    headers: Headers,
    conference: Conference,
    clock: FrozenClock,
    volunteer: int,
) -> None:
    other = new_conference(client, headers, clock, volunteer)
    clock.advance(days=4)
    unknown_conference = {**conference, "id": 999}
    for path, message in [
        (path_of(conference, "RJ-ZZZZZZ"), "No referral RJ-ZZZZZZ."),
        (path_of(unknown_conference), f"Referral {conference['referral']} has no conference 999."),
        (
            path_of(conference, other["referral"]),  # a conference of another referral
            f"Referral {other['referral']} has no conference {conference['id']}.",
        ),
    ]:
        assert error_of(post(client, headers, path, {"outcome": "held"})) == (
            404,
            "not_found",
            message,
        )
    assert shown(client, headers, conference)[0] == "scheduled"


# -- who may ----------------------------------------------------------------------------------
def test_the_conferences_write_scope_is_needed(
    app: Flask, client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    read_only = make_token(app.extensions["rj"], "conferences:read", "referrals:write")
    refused = post(client, read_only, path_of(conference), {"outcome": "held"})
    assert error_of(refused) == (403, "forbidden", "The token lacks the conferences:write scope.")
    assert post(client, {}, path_of(conference), {"outcome": "held"}).status_code == 401
    assert shown(client, headers, conference)[0] == "scheduled"


# -- retries ----------------------------------------------------------------------------------
def test_a_retry_with_the_same_key_answers_as_the_first_and_acts_once(
    app: Flask, client: FlaskClient, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    first = post(client, headers, path_of(conference), {"outcome": "held"}, key="outcome-1")
    clock.advance(minutes=5)
    retried = post(client, headers, path_of(conference), {"outcome": "held"}, key="outcome-1")
    assert (first.status_code, retried.status_code) == (200, 200)
    assert retried.json == first.json
    assert len(audited(app, "conference_outcome")) == 1
    changed = post(client, headers, path_of(conference), {"outcome": "not_held"}, key="outcome-1")
    assert error_of(changed)[:2] == (409, "idempotency_key_reused")
    assert shown(client, headers, conference)[0] == "held"


def test_a_key_used_for_one_conference_is_not_replayed_for_another(
    client: FlaskClient,
    headers: Headers,
    conference: Conference,
    clock: FrozenClock,
    volunteer: int,
) -> None:
    other = new_conference(client, headers, clock, volunteer)
    clock.advance(days=4)
    first = post(client, headers, path_of(conference), {"outcome": "held"}, key="k")
    assert first.status_code == 200
    reused = post(client, headers, path_of(other), {"outcome": "held"}, key="k")
    assert error_of(reused)[:2] == (409, "idempotency_key_reused")
    assert shown(client, headers, other)[0] == "scheduled"


# -- the contract -----------------------------------------------------------------------------
def test_the_operation_keeps_its_documented_contract(
    app: Flask, headers: Headers, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    [operation] = [op for op in operations(app) if op.label == OPERATION]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    check()
