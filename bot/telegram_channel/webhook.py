"""POST /webhooks/telegram: check the secret header, record the update once, answer fast."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, jsonify, request

from bot.telegram_channel.updates import NotAnUpdate, UpdateHandler, parse_update
from webhooks.runtime import current_runtime

log = logging.getLogger(__name__)
bp = Blueprint("telegram", __name__, url_prefix="/webhooks")


def _check_secret() -> None:
    """503 when Telegram is off; 403 unless the secret header matches."""
    settings = current_runtime().settings
    if not settings.telegram_enabled or not settings.telegram_webhook_secret:
        abort(503, description="The Telegram channel is not configured.")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), settings.telegram_webhook_secret.encode()):
        abort(403, description="The secret token is not valid.")


@bp.post("/telegram")
def telegram_update() -> Response:
    """Handle one update; replies leave through the outbox."""
    _check_secret()
    data = request.get_json(silent=True)
    if data is None:
        abort(400, description="Expected a JSON body.")
    try:
        update = parse_update(data)
    except NotAnUpdate:
        log.info("ignored a body that is not a Telegram update")
        return jsonify(ok=True, ignored=True)
    runtime = current_runtime()
    UpdateHandler(runtime.conversations, runtime.db).handle(update)
    return jsonify(ok=True)
