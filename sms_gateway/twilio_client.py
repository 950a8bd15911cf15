"""The real Twilio REST client, with a timeout and an optional base URL (a proxy or a mock)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends every Twilio API request to another scheme and host, keeping path and query."""

    def __init__(self, base_url: str, timeout: float) -> None:
        """Rewrite requests to `base_url`."""
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """The same request, to the configured host."""
        parts = urlsplit(url)
        moved = urlunsplit(
            (
                self.base.scheme,
                self.base.netloc,
                self.base.path + parts.path,
                parts.query,
                parts.fragment,
            )
        )
        return super().request(method, moved, *args, **kwargs)


def make_twilio_client(
    account_sid: str, auth_token: str, base_url: str | None = None, timeout: float = 10.0
) -> Client:
    """A Twilio client that times out, talking to Twilio or to `base_url`."""
    http = BaseUrlHttpClient(base_url, timeout) if base_url else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http)
