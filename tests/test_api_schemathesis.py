"""Schemathesis generates requests from /api/v1/openapi.json; none may break the contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.api_helpers import agency_referral, make_token
from tests.openapi_helpers import operations
from webhooks.runtime import Runtime


@pytest.fixture
def api_app(make_app: Callable[..., Flask]) -> Flask:
    """The service, with one referral in the queue."""
    return make_app()


@pytest.fixture
def token_headers(api_app: Flask) -> dict[str, str]:
    """A token with every referral scope, and one referral to find."""
    runtime: Runtime = api_app.extensions["rj"]
    headers = make_token(runtime, "referrals:read", "referrals:write")
    api_app.test_client().post("/api/v1/referrals", json=agency_referral(), headers=headers)
    return headers


def test_the_document_lists_the_operations(api_app: Flask) -> None:
    labels = {op.label for op in operations(api_app)}
    assert {
        "POST /api/v1/referrals",
        "GET /api/v1/referrals",
        "GET /api/v1/stats",
        "GET /api/v1/referrals/{reference}",
        "PATCH /api/v1/referrals/{reference}",
    } <= labels


# Phone numbers must be *possible* numbers (phonenumbers decides, per country), which no JSON
# Schema pattern can say, so a schema-valid body may still be refused with 422. Every other
# check runs: no 5xx, documented status codes and content types, responses matching their
# schemas, invalid data refused.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def test_api_keeps_its_contract(api_app: Flask, token_headers: dict[str, str]) -> None:
    for operation in operations(api_app):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=token_headers, excluded_checks=EXCLUDED)

        check()
