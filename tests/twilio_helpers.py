"""Signed Twilio webhook requests, made with Twilio's own RequestValidator."""

from __future__ import annotations

from itertools import count

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+447700900000"
PUBLIC = "http://127.0.0.1:8000"
_sids = count(1)


def twilio_env(api_base_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    """The environment that turns the SMS channel on."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": api_base_url,
    }


def signature(path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """What Twilio would put in X-Twilio-Signature."""
    return str(RequestValidator(token).compute_signature(PUBLIC + path, params))


def post_signed(client: FlaskClient, path: str, params: dict[str, str]) -> TestResponse:
    """POST form data to a Twilio webhook with a correct signature."""
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature(path, params)})


def sms(
    client: FlaskClient, text: str, sender: str = "+447700900123", sid: str | None = None
) -> TestResponse:
    """A signed inbound SMS, as Twilio sends it."""
    params = {
        "MessageSid": sid or f"SM{next(_sids):032x}",
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": FROM_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    return post_signed(client, "/webhooks/twilio/sms", params)
