"""Rate limits with Flask-Limiter: Redis storage when RJ_REDIS_URL is set, memory otherwise
(`rj-memory://`, webhooks/limiter_storage.py).

Each app gets its own Limiter (tests build many apps). Views are limited after their
blueprints are registered, with `limit(app, endpoint, rule, ...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from webhooks.config import Settings
from webhooks.limiter_storage import STORAGE_URI

EXTENSION = "rj_limiter"


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    """Attach a Limiter to `app`, with no default limits (each view opts in)."""
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=settings.redis_url or STORAGE_URI,
        strategy="moving-window",
        headers_enabled=True,
        default_limits=[],
        # Redis down: count in this process's memory rather than fail every request
        in_memory_fallback_enabled=True,
    )
    app.extensions[EXTENSION] = limiter
    return limiter


def app_limiter() -> Limiter:
    """The current app's Limiter."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    return limiter


def limit(app: Flask, endpoint: str, rule: str | Callable[[], str], **options: Any) -> None:
    """Apply `rule` (e.g. "10 per minute") to the view registered as `endpoint`."""
    limiter: Limiter = app.extensions[EXTENSION]
    limited: Any = limiter.limit(rule, **options)(app.view_functions[endpoint])
    app.view_functions[endpoint] = limited
