"""The contract between the outbox worker and each channel's sender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class SendError(Exception):
    """A send failed; says whether to retry, when, and whether the person has opted out."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        opted_out: bool = False,
        retry_after: float | None = None,
    ) -> None:
        """Describe the failure (never with personal data in `message`)."""
        super().__init__(message)
        self.permanent = permanent or opted_out
        self.opted_out = opted_out
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivered:
    """A send the provider accepted: its id there and the status it reported."""

    provider_id: str | None = None
    status: str = "sent"


class Sender(Protocol):
    """Delivers one kind of outbox item."""

    def send(self, recipient: str, payload: dict[str, Any], callback_id: int | None) -> Delivered:
        """Send, or raise SendError."""
        ...
