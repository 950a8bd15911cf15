"""GET /healthz: is the service up and can it reach its database?"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from webhooks.runtime import current_runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 when it does not."""
    try:
        with current_runtime().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means unhealthy
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
