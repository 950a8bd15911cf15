"""Rate limits per sender on the webhooks and per token on the API.

Keys are keyed hashes (HMAC with the secret key) of the sender's address or the token,
so neither a phone number nor a token is ever written to the limiter's storage (Redis).

- SMS (`From`) and Telegram (chat id): RJ_RATE_LIMIT_SENDER. A sender over the limit is
  not refused (see webhooks.throttle: Twilio would lose the message, Telegram would
  redeliver it): the message is kept, acknowledged with 200, and the person is asked once
  to slow down. Other senders have their own budgets and are unaffected. Never counted
  or held: unsigned or malformed requests (the view refuses those, and a forger must not
  use up a victim's budget), keywords (STOP, HELP, ...), the exit word, and any message
  showing a sign of danger: safety replies are never throttled.
- /api/v1 (the bearer token; the client address without one): RJ_RATE_LIMIT_API, one
  budget per token across the API, answered 429 with Retry-After once spent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask_limiter import RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import OperationalError
from werkzeug.sansio.response import Response as BaseResponse

from bot.answers import parse_phone
from bot.engine import keyword_of
from sms_gateway.signature import is_signed
from sms_gateway.webhook import twiml
from webhooks.errors import error_response
from webhooks.limits import EXTENSION, limit
from webhooks.runtime import current_runtime
from webhooks.throttle import Held, answer_button_press, hold

SMS_ENDPOINT = "sms.inbound_sms"
TELEGRAM_ENDPOINT = "telegram.telegram_update"
API_PREFIX = "/api/v1/"


def apply_rate_limits(app: Flask) -> None:
    """Limit the webhooks per sender and the API per token (after blueprints are registered)."""
    settings = app.extensions["rj"].settings
    sender, api = settings.rate_limit_sender, settings.rate_limit_api
    limit(app, SMS_ENDPOINT, sender, key_func=sms_key, exempt_when=sms_exempt, on_breach=hold_sms)
    limit(
        app,
        TELEGRAM_ENDPOINT,
        sender,
        key_func=telegram_key,
        exempt_when=telegram_exempt,
        on_breach=hold_telegram,
    )
    api_limit = app.extensions[EXTENSION].shared_limit(api, "api", key_func=api_key)
    for endpoint in sorted(_api_endpoints(app)):
        app.view_functions[endpoint] = api_limit(app.view_functions[endpoint])
    app.register_error_handler(RateLimitExceeded, _too_many)


def _api_endpoints(app: Flask) -> set[str]:
    """Every endpoint under /api/v1/."""
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIX)}


def _too_many(exc: RateLimitExceeded) -> BaseResponse:
    """The held-message answer for the webhooks; a JSON 429 everywhere else."""
    if exc.response is not None:
        return exc.response
    return error_response(429, "too_many_requests", "Too many requests: please slow down.")


def limit_key(kind: str, value: str) -> str:
    """A keyed hash of a sender or token, safe to store in Redis."""
    secret = current_runtime().settings.secret_key.encode()
    digest = hmac.new(secret, f"rate-limit:{kind}:{value}".encode(), hashlib.sha256)
    return f"{kind}:{digest.hexdigest()[:32]}"


def _safety_critical(text: str | None) -> bool:
    """Keywords, the exit word and signs of danger always go straight through."""
    if not text:
        return False
    service = current_runtime().conversations
    word = keyword_of(text)
    if word in service.flow.keywords or word == service.profile.exit_word:
        return True
    return service.detector.detect(text) is not None


# -- SMS ----------------------------------------------------------------------------------
def _sms_sender() -> str:
    """The sender as the conversation knows it (E.164 when it parses)."""
    sender = request.form.get("From", "")
    return parse_phone(sender) or sender


def sms_key() -> str:
    """Per sender: a keyed hash of the `From` number."""
    return limit_key("sms", _sms_sender())


def sms_exempt() -> bool:
    """Not counted: what the view will refuse anyway, and safety-critical messages."""
    settings = current_runtime().settings
    if not settings.twilio_enabled or not settings.twilio_auth_token:
        return True
    if request.mimetype != "application/x-www-form-urlencoded":
        return True
    form = request.form
    if not form.get("From") or not form.get("MessageSid"):
        return True
    if not is_signed(settings.twilio_auth_token, settings.public_base_url, request):
        return True
    return _safety_critical(form.get("Body"))


def hold_sms(_limit: RequestLimit) -> Response:
    """200 TwiML: the message kept, at most one kind slow-down reply (503 if the DB is down)."""
    form = request.form
    held = Held("sms", _sms_sender(), form.get("Body", ""), form["MessageSid"], sms_key())
    return _held_answer(lambda: hold(current_runtime(), held), twiml_of)


def twiml_of(text: str | None) -> Response:
    """TwiML holding the slow-down text, or nothing."""
    return twiml([text] if text else [])


def _held_answer(
    work: Callable[[], str | None], answer: Callable[[str | None], Response]
) -> Response:
    """Hold the message; a 503 (so the sender retries) when the database is unavailable."""
    try:
        text = work()
    except OperationalError:
        current_app.logger.error("database unavailable while holding a throttled message")
        response = error_response(503, "database_unavailable", "Please try again shortly.")
        response.headers["Retry-After"] = "5"
        return response
    return answer(text)


# -- Telegram -----------------------------------------------------------------------------
def _telegram_parts() -> tuple[str, str, str | None, str | None] | None:
    """(chat id, update key, text, callback id) of a private-chat update, else None."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    update_key = f"u{data['update_id']}"
    query = data.get("callback_query")
    if isinstance(query, dict):
        chat = _dig(query, "message", "chat", "id") or _dig(query, "from", "id")
        callback = query.get("id")
        return (str(chat), update_key, None, str(callback)) if chat and callback else None
    message = data.get("message")
    if not isinstance(message, dict) or _dig(message, "chat", "type") != "private":
        return None
    chat, text = _dig(message, "chat", "id"), message.get("text")
    key = f"{update_key}:m{message.get('message_id')}"
    return (str(chat), key, text if isinstance(text, str) else None, None) if chat else None


def _dig(data: Any, *path: str) -> Any:
    """A nested value of decoded JSON, or None."""
    for name in path:
        data = data.get(name) if isinstance(data, dict) else None
    return data


def telegram_key() -> str:
    """Per sender: a keyed hash of the chat id."""
    parts = _telegram_parts()
    return limit_key("telegram", parts[0] if parts else "")


def telegram_exempt() -> bool:
    """Not counted: unauthenticated or unusable bodies, and safety-critical messages."""
    settings = current_runtime().settings
    secret = settings.telegram_webhook_secret
    if not settings.telegram_enabled or not secret:
        return True
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return True
    parts = _telegram_parts()
    return parts is None or _safety_critical(parts[2])


def hold_telegram(_limit: RequestLimit) -> Response:
    """200: the message kept, a button press still answered, one slow-down via the outbox."""
    parts = _telegram_parts()
    if parts is None:  # exempt, so never here
        return _telegram_ok(None)
    chat, key, text, callback = parts
    held = Held("telegram", chat, text, key, telegram_key())

    def work() -> str | None:
        runtime = current_runtime()
        if callback is not None:
            answer_button_press(runtime, callback)
        return hold(runtime, held)

    return _held_answer(work, _telegram_ok)


def _telegram_ok(_text: str | None) -> Response:
    """What the Telegram webhook answers for a held update (the notice goes via the outbox)."""
    return jsonify(ok=True, throttled=True)


# -- API ----------------------------------------------------------------------------------
def api_key() -> str:
    """Per token: a keyed hash of the bearer token, or the client address without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return limit_key("token", token.strip())
    return limit_key("address", get_remote_address() or "unknown")
