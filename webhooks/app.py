"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from webhooks.config import Settings, load_settings
from webhooks.errors import register_error_handlers
from webhooks.limits import init_limiter
from webhooks.runtime import Runtime, build_runtime
from webhooks.security import init_security


def create_app(
    config: Settings | Mapping[str, str] | None = None, runtime: Runtime | None = None
) -> Flask:
    """Build the app from settings, an environment mapping, or the process environment."""
    if runtime is None:
        settings = config if isinstance(config, Settings) else load_settings(config)
        runtime = build_runtime(settings)
    app = Flask(__name__, instance_path=str(runtime.settings.instance_path))
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        MAX_CONTENT_LENGTH=runtime.settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=runtime.settings.max_body_bytes,
    )
    app.extensions["rj"] = runtime
    register_error_handlers(app)
    init_security(app, runtime.settings)
    init_limiter(app, runtime.settings)
    _register_blueprints(app)
    _apply_rate_limits(app)
    return app


def _apply_rate_limits(app: Flask) -> None:
    """Per-sender and per-token limits on the registered views."""
    from webhooks.rate_limits import apply_rate_limits

    apply_rate_limits(app)


def _register_blueprints(app: Flask) -> None:
    """Attach each feature's routes."""
    from bot.telegram_channel.webhook import bp as telegram_bp
    from sms_gateway.webhook import bp as sms_bp
    from webhooks.api import bp as api_bp
    from webhooks.api_conferences import bp as conferences_bp
    from webhooks.health import bp as health_bp
    from webhooks.openapi import spec

    app.register_blueprint(health_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(telegram_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(conferences_bp)
    spec.register(app)
    _register_pages(app, app.extensions["rj"])


def _register_pages(app: Flask, runtime: Runtime) -> None:
    """The pages people use in a browser: the dashboard, and /try/ outside production."""
    from webhooks.dashboard import init_dashboard
    from webhooks.limits import limit
    from webhooks.try_page import bp as try_bp

    app.register_blueprint(try_bp)
    init_dashboard(app, runtime)
    limit(app, "try.send", "60 per minute")
