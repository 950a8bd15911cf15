"""Structured logs: one JSON object a line, with references and events, never personal data.

Log calls say what happened (`event`), to which referral (`reference`) and on which
`channel`, as `extra` fields; only the fields in SAFE_FIELDS are written. As a second line of
defence, numbers and email addresses are masked in messages, and a traceback keeps its frames
but not the exception's text (validation errors and vendor errors echo what people typed).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from types import TracebackType
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

SAFE_FIELDS = frozenset(
    {
        "timestamp",
        "level",
        "logger",
        "message",
        "exc_info",
        "stack_info",
        "event",
        "reference",
        "channel",
        "kind",
        "status",
        "counts",
        "outbox_id",
        "conversation_id",
        "attempts",
        "method",
        "path",
        "error",
    }
)
# Libraries that log request bodies, chat ids or tokens at INFO or DEBUG: warnings only.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "twilio", "urllib3", "hpack")
_NUMBER = re.compile(r"\+?\d(?:[\s().-]?\d){6,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def mask(text: str) -> str:
    """Text with phone-like numbers and email addresses masked."""
    return _EMAIL.sub("[email]", _NUMBER.sub("[number]", text))


def frames_only(exc: BaseException | None) -> str:
    """A traceback with its frames and exception types but none of the exceptions' text."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        parts.append(f"{frames}{type(exc).__module__}.{type(exc).__qualname__}")
        exc = exc.__cause__ or exc.__context__
    return "Traceback (most recent call last, causes after):\n" + "\n---\n".join(parts)


class SafeJsonFormatter(JsonFormatter):
    """JSON lines holding only safe fields, with masked messages and text-free tracebacks."""

    def __init__(self) -> None:
        """Timestamp, level, logger name and message, then the safe extra fields."""
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )

    def formatException(self, ei: Any) -> str:
        """The frames of the exception chain, without any exception's text."""
        return frames_only(ei[1])

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Keep the safe fields only; mask the message."""
        kept = {k: v for k, v in log_data.items() if k in SAFE_FIELDS}
        kept["message"] = mask(str(kept.get("message", "")))
        return kept


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (click's test runner swaps it)."""

    def __init__(self) -> None:
        """No fixed stream."""
        super().__init__(None)

    @property
    def stream(self) -> TextIO:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        """Ignored: the stream is always the current standard error."""


_installed: list[logging.Handler] = []


def configure_logging(level: int | str = logging.WARNING, stream: TextIO | None = None) -> None:
    """Send every log record to standard error (or `stream`) as JSON; safe to call again."""
    root = logging.getLogger()
    while _installed:
        root.removeHandler(_installed.pop())
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(SafeJsonFormatter())
    root.addHandler(handler)
    _installed.append(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def log_services() -> None:
    """Long-running commands log their events (INFO) unless -v or RJ_LOG_LEVEL chose a level."""
    root = logging.getLogger()
    if "RJ_LOG_LEVEL" not in os.environ and root.level > logging.INFO:
        root.setLevel(logging.INFO)
