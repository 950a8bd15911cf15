"""Twilio request signatures, checked against the configured public URL (not request.url)."""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator, get_signature_algorithm


def public_url(base_url: str, request: Request) -> str:
    """The URL Twilio signed: public base + path + query string (never a bare '?')."""
    query = request.query_string.decode("latin-1")
    return f"{base_url.rstrip('/')}{request.path}" + (f"?{query}" if query else "")


def is_signed(auth_token: str, base_url: str, request: Request) -> bool:
    """True when X-Twilio-Signature matches the URL and every form parameter."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    validator = RequestValidator(auth_token)
    return bool(
        validator.validate(public_url(base_url, request), request.form, signature, algorithm)
    )
