"""A stub of Twilio's Messages API for tests: real HTTP, Basic auth, Twilio-shaped answers."""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.stubs.http import StubServer

MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


class TwilioStub:
    """Accepts message creation, records it, and fails on request."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        """Expect these credentials."""
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._failures: list[tuple[int, int, str]] = []
        self._failing_numbers: dict[str, tuple[int, int, str]] = {}
        self.delay = 0.0  # seconds before each answer: a slow provider, for fault tests
        # called with each accepted message before it is answered: something happening
        # while the worker is in the middle of a batch, for worker tests (its result is unused)
        self.on_message: Callable[[dict[str, Any]], object] | None = None
        self.server = StubServer(self._route)

    @property
    def base_url(self) -> str:
        """Where the stub listens."""
        return self.server.base_url

    def __enter__(self) -> TwilioStub:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop()

    def fail_next(
        self, status: int = 500, code: int = 20500, message: str = "Internal error"
    ) -> None:
        """Make the next create fail with this error."""
        self._failures.append((status, code, message))

    def fail_to(
        self,
        number: str,
        status: int = 400,
        code: int = 21610,
        message: str = "Attempt to send to unsubscribed recipient",
    ) -> None:
        """Make every create to `number` fail."""
        self._failing_numbers[number] = (status, code, message)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The messages once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return headers.get("Authorization", "") == f"Basic {expected}"

    def _route(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, Any]
    ) -> tuple[int, Any]:
        match = MESSAGES.match(path.split("?")[0])
        if method != "POST" or match is None:
            return 404, _error(20404, "The requested resource was not found", 404)
        if match["sid"] != self.account_sid or not self._authorised(headers):
            return 401, _error(20003, "Authenticate", 401)
        time.sleep(self.delay)
        with self._lock:
            failure = self._failing_numbers.get(params.get("To", "")) or (
                self._failures.pop(0) if self._failures else None
            )
            if failure:
                return failure[0], _error(failure[1], failure[2], failure[0])
            self.messages.append(dict(params))
        if self.on_message is not None:
            self.on_message(dict(params))
        return 201, self._created(params)

    def _created(self, params: dict[str, Any]) -> dict[str, Any]:
        body = params.get("Body", "")
        return {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": self.account_sid,
            "to": params.get("To"),
            "from": params.get("From"),
            "body": body,
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Mon, 23 Nov 2026 10:30:00 +0000",
            "error_code": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages.json",
        }


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    """Twilio's error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
