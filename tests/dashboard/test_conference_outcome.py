"""Recording whether a conference was held, and the board figures that count only those held."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from case_store.models import AuditEntry, OutboxItem
from case_store.tokens import SCOPES
from tests.api_helpers import agency_referral, json_body, make_token
from tests.conftest import FrozenClock
from tests.dashboard_helpers import EMAIL, log_in, submit
from tests.stubs.twilio_api import TwilioStub
from webhooks.cli import main
from webhooks.runtime import build_worker

Conference = dict[str, object]


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """An API token with every conference and referral scope."""
    return make_token(app.extensions["rj"], *SCOPES, name="Co-ordinator")


@pytest.fixture
def volunteer(client: FlaskClient, headers: dict[str, str]) -> int:
    """One volunteer facilitator's id."""
    body = {"name": "Alex Volunteer", "phone": "+447700900201"}
    return int(json_body(client.post("/api/v1/volunteers", json=body, headers=headers))["id"])


def schedule(
    client: FlaskClient, headers: dict[str, str], clock: FrozenClock, volunteer: int, days: int = 3
) -> Conference:
    """A referral from the Victims' Hub and a conference for it in `days` days, at 10:00."""
    reference = json_body(
        client.post("/api/v1/referrals", json=agency_referral(), headers=headers)
    )["reference"]
    start = (clock() + timedelta(days=days)).replace(hour=10, minute=0)
    body = {
        "referral": reference,
        "starts_at": start.isoformat(),
        "venue": "Parkside Community Centre",
        "volunteers": [volunteer],
    }
    response = client.post("/api/v1/conferences", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return json_body(response)


@pytest.fixture
def conference(
    client: FlaskClient, headers: dict[str, str], clock: FrozenClock, volunteer: int
) -> Conference:
    """A conference in three days' time."""
    return schedule(client, headers, clock, volunteer)


def logged_in(client: FlaskClient) -> FlaskClient:
    """The co-ordinator, logged in now (a session idle for days has ended)."""
    assert log_in(client).status_code == 302
    return client


def page_of(conference: Conference) -> str:
    """The referral page the conference is on."""
    return f"/coordinator/referrals/{conference['referral']}"


def record(staff: FlaskClient, conference: Conference, outcome: str) -> TestResponse:
    """Press "Held" or "Did not go ahead" on the referral page."""
    page = page_of(conference)
    action = f"{page}/conferences/{conference['id']}/outcome"
    return submit(staff, page, action, {"outcome": outcome}, "outcome-")


def status_of(client: FlaskClient, headers: dict[str, str], conference: Conference) -> str:
    """The conference's status as the API shows it."""
    shown = client.get(f"/api/v1/conferences/{conference['id']}", headers=headers)
    assert shown.status_code == 200, shown.json
    return str(json_body(shown)["status"])


def outcome_entries(app: Flask) -> list[tuple[str, str | None, str | None]]:
    """(actor, reference, detail) of every recorded outcome in the audit trail."""
    with app.extensions["rj"].db.transaction() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.referral_reference, AuditEntry.detail).where(
                AuditEntry.action == "conference_outcome"
            )
        )
        return [tuple(row) for row in rows]


def outbox_size(app: Flask) -> int:
    """How many sends have ever been queued."""
    with app.extensions["rj"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxItem)) or 0)


def deliver(app: Flask, clock: FrozenClock) -> None:
    """Let the worker send whatever is due."""
    worker = build_worker(app.extensions["rj"])
    worker.run_schedules()
    for _ in range(5):
        while worker.run_once():
            pass
        clock.advance(seconds=2)


# -- what the co-ordinator sees ----------------------------------------------------------------
def test_the_outcome_buttons_appear_only_once_the_start_has_passed(
    client: FlaskClient, conference: Conference, clock: FrozenClock
) -> None:
    before = logged_in(client).get(page_of(conference)).text
    assert "Outcome needed" not in before and 'value="not_held"' not in before
    assert "Conferences that need an outcome" not in client.get("/coordinator/").text
    clock.advance(days=4)
    after = logged_in(client).get(page_of(conference)).text
    assert "Outcome needed" in after
    assert 'value="held">Held</button>' in after and "Did not go ahead</button>" in after
    queue = client.get("/coordinator/").text
    assert "Conferences that need an outcome" in queue and str(conference["referral"]) in queue


# -- recording it -----------------------------------------------------------------------------
def test_recording_held_shows_on_the_page_and_in_the_api(
    client: FlaskClient, headers: dict[str, str], conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    response = record(logged_in(client), conference, "held")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page_of(conference)}#conferences")
    page = client.get(page_of(conference)).text
    assert "Conference recorded as held." in page and "(held;" in page
    assert "Outcome needed" not in page
    assert "Conferences that need an outcome" not in client.get("/coordinator/").text
    assert status_of(client, headers, conference) == "held"


def test_recording_did_not_go_ahead(
    client: FlaskClient, headers: dict[str, str], conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    assert record(logged_in(client), conference, "not_held").status_code == 302
    page = client.get(page_of(conference)).text
    assert "Conference recorded as not going ahead." in page and "(did not go ahead;" in page
    assert status_of(client, headers, conference) == "not_held"


def test_an_outcome_is_audited_with_who_and_which_conference(
    app: Flask, client: FlaskClient, conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    record(logged_in(client), conference, "held")
    assert outcome_entries(app) == [
        (f"staff:{EMAIL}", conference["referral"], f"#{conference['id']} held")
    ]
    page = client.get(page_of(conference)).text
    assert f"conference_outcome: #{conference['id']} held" in page


def test_recording_an_outcome_sends_nothing_to_anyone(
    app: Flask,
    client: FlaskClient,
    conference: Conference,
    twilio: TwilioStub,
    clock: FrozenClock,
) -> None:
    deliver(app, clock)
    clock.advance(days=4)
    deliver(app, clock)  # everything due by the start has gone
    texts, queued = len(twilio.messages), outbox_size(app)
    assert record(logged_in(client), conference, "not_held").status_code == 302
    deliver(app, clock)
    assert (len(twilio.messages), outbox_size(app)) == (texts, queued)


# -- refusals: a clear message, nothing changed ------------------------------------------------
def test_an_outcome_before_the_start_is_refused(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    conference: Conference,
    clock: FrozenClock,
) -> None:
    clock.advance(days=2)  # the day before
    refused = record(logged_in(client), conference, "held")
    assert refused.status_code == 409
    assert "has not started yet" in refused.text
    assert status_of(client, headers, conference) == "scheduled"
    assert outcome_entries(app) == []


def test_a_second_outcome_is_refused(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    conference: Conference,
    clock: FrozenClock,
) -> None:
    clock.advance(days=4)
    staff = logged_in(client)
    assert record(staff, conference, "held").status_code == 302
    again = record(staff, conference, "not_held")
    assert again.status_code == 409 and "already recorded as held" in again.text
    assert status_of(client, headers, conference) == "held"
    assert len(outcome_entries(app)) == 1


def test_a_cancelled_conference_has_no_outcome(
    client: FlaskClient, headers: dict[str, str], conference: Conference, clock: FrozenClock
) -> None:
    client.post(f"/api/v1/conferences/{conference['id']}/cancel", headers=headers)
    clock.advance(days=4)
    staff = logged_in(client)
    assert 'value="held"' not in staff.get(page_of(conference)).text
    refused = record(staff, conference, "held")
    assert refused.status_code == 409 and "was cancelled" in refused.text
    assert status_of(client, headers, conference) == "cancelled"


def test_an_outcome_without_the_csrf_token_is_400(
    client: FlaskClient, headers: dict[str, str], conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    action = f"{page_of(conference)}/conferences/{conference['id']}/outcome"
    response = logged_in(client).post(action, data={"outcome-outcome": "held"})
    assert response.status_code == 400
    assert status_of(client, headers, conference) == "scheduled"


def test_an_unknown_outcome_is_422(
    client: FlaskClient, headers: dict[str, str], conference: Conference, clock: FrozenClock
) -> None:
    clock.advance(days=4)
    assert record(logged_in(client), conference, "postponed").status_code == 422
    assert status_of(client, headers, conference) == "scheduled"


def test_a_conference_on_another_referral_is_404(
    client: FlaskClient,
    headers: dict[str, str],
    conference: Conference,
    clock: FrozenClock,
    volunteer: int,
) -> None:
    other = schedule(client, headers, clock, volunteer)
    clock.advance(days=4)
    page = page_of(other)
    action = f"{page}/conferences/{conference['id']}/outcome"
    response = submit(logged_in(client), page, action, {"outcome": "held"}, "outcome-")
    assert response.status_code == 404
    assert status_of(client, headers, conference) == "scheduled"


# -- the board figures ------------------------------------------------------------------------
@pytest.fixture
def outcomes(
    client: FlaskClient,
    headers: dict[str, str],
    clock: FrozenClock,
    volunteer: int,
) -> FlaskClient:
    """Five conferences: held, not held, passed with no outcome, cancelled, and one to come."""
    held, not_held, _awaiting, cancelled = (
        schedule(client, headers, clock, volunteer) for _ in range(4)
    )
    schedule(client, headers, clock, volunteer, days=10)
    client.post(f"/api/v1/conferences/{cancelled['id']}/cancel", headers=headers)
    clock.advance(days=4)
    staff = logged_in(client)
    assert record(staff, held, "held").status_code == 302
    assert record(staff, not_held, "not_held").status_code == 302
    return staff


def test_the_api_counts_only_conferences_recorded_as_held(
    outcomes: FlaskClient, headers: dict[str, str]
) -> None:
    figures = json_body(outcomes.get("/api/v1/stats", headers=headers))
    assert figures["conferences_held"] == 1
    assert figures["conferences_not_held"] == 1
    assert figures["conferences_awaiting_outcome"] == 1


def test_the_reports_page_shows_held_not_held_and_awaiting(outcomes: FlaskClient) -> None:
    page = outcomes.get("/coordinator/reports?start=2026-11-01&end=2026-11-30").text
    assert '<td id="held">1</td>' in page
    assert '<td id="not-held">1</td>' in page
    assert '<td id="awaiting-outcome">1</td>' in page
    assert "1 did not go ahead and 1 awaits an outcome" in page
    csv = outcomes.get("/coordinator/reports.csv?start=2026-11-01&end=2026-11-30").text
    assert "totals,conferences_held,1" in csv and "totals,conferences_awaiting_outcome,1" in csv


def test_conferences_count_by_their_start_in_the_period(outcomes: FlaskClient) -> None:
    page = outcomes.get("/coordinator/reports?start=2026-10-01&end=2026-10-31").text
    assert '<td id="held">0</td>' in page and '<td id="awaiting-outcome">0</td>' in page


def test_the_report_command_counts_only_conferences_recorded_as_held(
    outcomes: FlaskClient, environ: dict[str, str]
) -> None:
    # The command reads the real clock, so only the recorded outcomes are asserted here.
    figures = json.loads(report(environ, "json"))
    assert (figures["conferences_held"], figures["conferences_not_held"]) == (1, 1)
    assert isinstance(figures["conferences_awaiting_outcome"], int)
    csv = report(environ, "csv")
    assert "totals,conferences_held,1" in csv and "totals,conferences_not_held,1" in csv
    assert "and 1 conference were held. Of the other conferences" in report(environ, "text")


def report(environ: dict[str, str], fmt: str) -> str:
    """`rj-frontdoor report --format FMT`, run as a user would; its output."""
    run = CliRunner().invoke(main, ["report", "--format", fmt], env=environ)
    assert run.exit_code == 0, run.output
    return run.stdout
