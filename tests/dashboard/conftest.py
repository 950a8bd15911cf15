"""Fixtures for the dashboard tests: the service with SMS on and a co-ordinator logged in."""

from __future__ import annotations

from tests.staff_fixtures import app, client, staff, twilio

__all__ = ["app", "client", "staff", "twilio"]
