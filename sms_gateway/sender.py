"""Outbound SMS through Twilio's REST API, with a status callback for each message."""

from __future__ import annotations

from typing import Any

from twilio.base.exceptions import TwilioRestException

from sms_gateway.status import OPTED_OUT_ERROR
from sms_gateway.twilio_client import make_twilio_client
from webhooks.config import Settings
from webhooks.delivery import Delivered, SendError

PERMANENT_CODES = {21211, 21214, 21217, 21219, 21408, 21610, 21612, 21614}


class SmsSender:
    """Sends outbox SMS with the real Twilio client."""

    def __init__(self, settings: Settings) -> None:
        """Build the client from the Twilio settings."""
        self.from_number = settings.twilio_from_number or ""
        self.callback_url = f"{settings.public_base_url}/webhooks/twilio/status"
        self.client = make_twilio_client(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            base_url=settings.twilio_api_base_url,
        )

    def send(self, recipient: str, payload: dict[str, Any], callback_id: int | None) -> Delivered:
        """Create the message at Twilio; translate its errors for the worker."""
        try:
            message = self.client.messages.create(
                to=recipient,
                from_=self.from_number,
                body=payload["text"],
                status_callback=self.callback_url,
            )
        except TwilioRestException as exc:
            raise _translate(exc) from exc
        except OSError as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}") from exc
        return Delivered(message.sid, message.status or "queued")


def _translate(exc: TwilioRestException) -> SendError:
    """A SendError saying whether Twilio's error is worth retrying."""
    code = str(exc.code or "")
    if code == OPTED_OUT_ERROR:
        return SendError("recipient has opted out (21610)", opted_out=True)
    if exc.status == 429:
        return SendError("Twilio rate limit (429)", retry_after=30.0)
    permanent = (exc.code in PERMANENT_CODES) or (400 <= exc.status < 500 and exc.status != 408)
    return SendError(f"Twilio error {exc.status} code {code}", permanent=permanent)
