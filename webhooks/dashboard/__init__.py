"""The co-ordinator's dashboard at /coordinator/: server-rendered pages behind a login."""

from __future__ import annotations

import importlib
from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from webhooks.dashboard.auth import init_login
from webhooks.dashboard.blueprint import bp
from webhooks.limits import limit
from webhooks.runtime import Runtime

LOGIN_LIMIT = "10 per 15 minutes"
VIEW_MODULES = (
    "queue",
    "referral",
    "referral_casework",
    "referral_conferences",
    "outcomes",
    "referral_contact",
    "referral_erasure",
    "conversations",
    "volunteers",
    "reports",
    "sends",
)


def init_dashboard(app: Flask, runtime: Runtime) -> None:
    """Register the dashboard, its login, CSRF protection and cookie settings."""
    for module in VIEW_MODULES:  # each adds its routes to the blueprint
        importlib.import_module(f"webhooks.dashboard.{module}")
    settings = runtime.settings
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production
        or settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.dashboard_idle_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    csrf = app.extensions.get("csrf") or CSRFProtect(app)
    for name, blueprint in app.blueprints.items():
        if name not in {"dashboard", "try"}:
            csrf.exempt(blueprint)
    app.register_blueprint(bp)
    init_login(app)
    limit(
        app,
        "dashboard.login",
        LOGIN_LIMIT,
        methods=["POST"],
        deduct_when=lambda response: response.status_code != 302,
    )
