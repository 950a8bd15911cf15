"""Twilio request signatures, checked against the configured public URL (not request.url)."""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator, get_signature_algorithm

SIGNED_KEY = "rj.twilio_signed"


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio signed: public base + path + query string (never a bare '?')."""
    query = request.query_string.decode("latin-1")
    return f"{base_url.rstrip('/')}{request.path}" + (f"?{query}" if query else "")


def is_signed(auth_token: str, base_url: str, request: Request) -> bool:
    """True when X-Twilio-Signature matches the URL and every form parameter.

    The answer is kept for the rest of the request: the rate limiter and the view both ask.
    """
    memo = (SIGNED_KEY, auth_token, base_url)
    known = request.environ.get(SIGNED_KEY)
    if known is not None and known[0] == memo:
        return bool(known[1])
    signed = _check(auth_token, base_url, request)
    request.environ[SIGNED_KEY] = (memo, signed)
    return signed


def _check(auth_token: str, base_url: str, request: Request) -> bool:
    """Compute and compare the signature."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    validator = RequestValidator(auth_token)
    return bool(
        validator.validate(public_url(base_url, request), request.form, signature, algorithm)
    )
