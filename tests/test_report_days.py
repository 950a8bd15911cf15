"""The board report's days are days in England (Europe/London), not UTC days.

A referral made at 00:30 BST on 1 June (23:30 UTC on 31 May) belongs to 1 June; in winter
London keeps UTC; on the days the clocks change a day lasts 23 or 25 hours. Checked through
`GET /api/v1/stats`, `rj-frontdoor report` and the dashboard's reports page.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from case_store.stats import local_days
from case_store.tokens import SCOPES
from tests.api_helpers import agency_referral, json_body, make_token
from tests.conftest import FrozenClock
from tests.dashboard_helpers import add_user, log_in
from webhooks.cli import main

LONDON = ZoneInfo("Europe/London")

# When each referral arrived (UTC), and the day it belongs to in London.
ARRIVALS = [
    ("2026-03-28T23:30", "2026-03-28"),  # GMT: London keeps UTC
    ("2026-03-29T00:30", "2026-03-29"),  # 00:30 GMT; the clocks go forward at 01:00
    ("2026-03-29T22:30", "2026-03-29"),  # 23:30 BST: the day lasts 23 hours
    ("2026-03-29T23:30", "2026-03-30"),  # 00:30 BST
    ("2026-05-31T22:30", "2026-05-31"),  # 23:30 BST
    ("2026-05-31T23:30", "2026-06-01"),  # 00:30 BST on 1 June
    ("2026-06-01T22:59", "2026-06-01"),  # 23:59 BST
    ("2026-06-01T23:00", "2026-06-02"),  # midnight BST
    ("2026-10-24T22:30", "2026-10-24"),  # 23:30 BST
    ("2026-10-24T23:30", "2026-10-25"),  # 00:30 BST; the clocks go back at 02:00 BST
    ("2026-10-25T00:30", "2026-10-25"),  # 01:30 BST, the first time
    ("2026-10-25T01:30", "2026-10-25"),  # 01:30 GMT, the second time
    ("2026-10-25T23:30", "2026-10-25"),  # 23:30 GMT: the day lasts 25 hours
    ("2026-11-30T23:30", "2026-11-30"),  # GMT
    ("2026-12-01T00:30", "2026-12-01"),  # 00:30 GMT on 1 December
]
PER_DAY = Counter(day for _, day in ARRIVALS)


def at(moment: str) -> datetime:
    """A UTC instant written without its zone."""
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service, with a co-ordinator login."""
    built = make_app()
    add_user(built)
    return built


@pytest.fixture
def headers(app: Flask) -> dict[str, str]:
    """An API token with every scope."""
    return make_token(app.extensions["rj"], *SCOPES)


@pytest.fixture
def arrived(app: Flask, headers: dict[str, str], clock: FrozenClock) -> FlaskClient:
    """A client of the service after one API referral at each of ARRIVALS."""
    client = app.test_client()
    for moment, _ in ARRIVALS:
        clock.now = at(moment)
        assert (
            client.post("/api/v1/referrals", json=agency_referral(), headers=headers).status_code
            == 201
        )
    return client


def stats(client: FlaskClient, headers: dict[str, str], start: str, end: str) -> dict[str, object]:
    """`GET /api/v1/stats` for the days from `start` to `end`."""
    response = client.get(f"/api/v1/stats?from={start}&to={end}", headers=headers)
    assert response.status_code == 200, response.json
    return json_body(response)


def report(environ: dict[str, str], *args: str) -> str:
    """`rj-frontdoor report ARGS`, run as a user would; its output."""
    run = CliRunner().invoke(main, ["report", *args], env=environ)
    assert run.exit_code == 0, run.output
    return run.stdout


# -- the days themselves -------------------------------------------------------------------------
def test_a_summer_day_runs_from_midnight_bst_to_midnight_bst() -> None:
    june = local_days(date(2026, 6, 1), date(2026, 6, 1), LONDON)
    assert (june.lower, june.upper) == (at("2026-05-31T23:00"), at("2026-06-01T23:00"))


def test_a_winter_day_is_the_utc_day() -> None:
    december = local_days(date(2026, 12, 1), date(2026, 12, 1), LONDON)
    assert (december.lower, december.upper) == (at("2026-12-01T00:00"), at("2026-12-02T00:00"))


def test_the_days_the_clocks_change_last_23_and_25_hours() -> None:
    spring = local_days(date(2026, 3, 29), date(2026, 3, 29), LONDON)
    autumn = local_days(date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert spring.upper and spring.lower and spring.upper - spring.lower == timedelta(hours=23)
    assert autumn.upper and autumn.lower and autumn.upper - autumn.lower == timedelta(hours=25)


def test_an_open_end_stays_open() -> None:
    since = local_days(date(2026, 6, 1), None, LONDON)
    assert (since.lower, since.upper) == (at("2026-05-31T23:00"), None)


# -- through the API -----------------------------------------------------------------------------
@pytest.mark.parametrize("day", sorted(PER_DAY))
def test_the_api_counts_each_referral_on_its_london_day(
    arrived: FlaskClient, headers: dict[str, str], day: str
) -> None:
    figures = stats(arrived, headers, day, day)
    assert figures["total"] == PER_DAY[day]
    assert figures["period"] == {"from": day, "to": day}  # the dates asked for, unchanged


def test_the_api_counts_a_summer_month_by_london_days(
    arrived: FlaskClient, headers: dict[str, str]
) -> None:
    assert stats(arrived, headers, "2026-05-01", "2026-05-31")["total"] == 1
    assert stats(arrived, headers, "2026-06-01", "2026-06-30")["total"] == 3


def test_a_conference_at_00_30_bst_counts_on_its_london_day(
    app: Flask, headers: dict[str, str], clock: FrozenClock
) -> None:
    client = app.test_client()
    clock.now = at("2026-05-20T10:00")
    referral = json_body(client.post("/api/v1/referrals", json=agency_referral(), headers=headers))
    volunteer = {"name": "Alex Volunteer", "phone": "+447700900201"}
    added = client.post("/api/v1/volunteers", json=volunteer, headers=headers)
    volunteer_id = json_body(added)["id"]
    body = {
        "referral": referral["reference"],
        "starts_at": "2026-06-01T00:30:00+01:00",
        "venue": "Parkside Community Centre",
        "volunteers": [volunteer_id],
    }
    assert client.post("/api/v1/conferences", json=body, headers=headers).status_code == 201
    clock.now = at("2026-06-02T09:00")
    assert stats(client, headers, "2026-06-01", "2026-06-01")["conferences_awaiting_outcome"] == 1
    assert stats(client, headers, "2026-05-31", "2026-05-31")["conferences_awaiting_outcome"] == 0


# -- through the command line --------------------------------------------------------------------
def test_the_report_command_counts_1_june_from_midnight_bst(
    arrived: FlaskClient, environ: dict[str, str]
) -> None:
    figures = json.loads(
        report(environ, "--from", "2026-06-01", "--to", "2026-06-01", "--format", "json")
    )
    assert figures["total"] == 2
    assert figures["period"] == {"from": "2026-06-01", "to": "2026-06-01"}
    text = report(environ, "--from", "2026-06-01", "--to", "2026-06-01")
    assert (
        text.startswith("Between 2026-06-01 and 2026-06-01, ") and " received 2 referrals:" in text
    )


def test_the_report_command_keeps_winter_days_and_the_clock_change_days(
    arrived: FlaskClient, environ: dict[str, str]
) -> None:
    for day in ("2026-12-01", "2026-11-30", "2026-03-29", "2026-10-25"):
        csv = report(environ, "--from", day, "--to", day, "--format", "csv").splitlines()
        assert f"period,from,{day}" in csv and f"period,to,{day}" in csv
        assert f"totals,total,{PER_DAY[day]}" in csv


# -- on the dashboard ----------------------------------------------------------------------------
def test_the_reports_page_counts_months_and_today_in_london(
    arrived: FlaskClient, clock: FrozenClock
) -> None:
    assert log_in(arrived).status_code == 302
    clock.now = at("2026-05-31T23:30")  # 00:30 BST on 1 June
    page = arrived.get("/coordinator/reports").text
    assert 'value="2026-06-01"' in page  # the default period ends today, in London
    csv = arrived.get("/coordinator/reports.csv?start=2026-05-01&end=2026-06-30").text
    assert "by_month,2026-05 victims_hub,1" in csv and "by_month,2026-06 victims_hub,3" in csv
