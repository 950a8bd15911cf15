"""Logs are JSON lines with references and events, and never hold personal data: the logs
of whole SMS and Telegram conversations are captured at DEBUG and searched."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH
from tests.privacy_helpers import personal_in
from tests.stubs.telegram_api import TelegramStub
from tests.telegram_helpers import CHAT, TOKEN, converse, telegram_env
from tests.twilio_helpers import sms, twilio_env
from webhooks import logs
from webhooks.logs import configure_logging, frames_only, mask

TELEGRAM_PATH = ["/start", *HAPPY_PATH[1:17], "07700 900123", *HAPPY_PATH[18:]]
ANSWERS = ("my brother Dave", "Person")  # free text, and the Telegram first name
Captured = tuple[io.StringIO, list[logging.LogRecord]]


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """The JSON lines our handler writes, and the raw records, at DEBUG; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream)
    caplog.set_level(logging.DEBUG)
    yield stream, caplog.records
    root.handlers[:], logs._installed[:] = saved[0], []
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def everything_logged(stream: io.StringIO, records: list[logging.LogRecord]) -> str:
    """The written lines (each must be JSON) and every raw record's message and fields."""
    lines = stream.getvalue().splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    raw = [f"{r.getMessage()} {r.__dict__}" for r in records]
    return "\n".join([*lines, *raw])


def test_a_whole_sms_conversation_logs_nothing_personal(
    make_app: Callable[..., Flask], captured: Captured
) -> None:
    client = make_app(**twilio_env()).test_client()
    for text in HAPPY_PATH:
        assert sms(client, text).status_code == 200
    logged = everything_logged(*captured)
    assert '"reference": "RJ-000001"' in logged and '"event": "referral_created"' in logged
    assert personal_in(logged, (*ANSWERS, "+447700900123")) == []


def test_a_whole_telegram_conversation_logs_nothing_personal(
    make_app: Callable[..., Flask],
    clock: FrozenClock,
    captured: Captured,
) -> None:
    with TelegramStub(TOKEN) as stub:
        app = make_app(**telegram_env(stub.base_url))
        converse(app, app.test_client(), stub, clock, TELEGRAM_PATH)
    logged = everything_logged(*captured)
    assert '"channel": "telegram"' in logged
    assert personal_in(logged, (*ANSWERS, str(CHAT), TOKEN)) == []


def test_messages_are_masked_and_tracebacks_lose_their_text() -> None:
    assert mask("call 07700 900123 or sam@example.org") == "call [number] or [email]"
    personal = "Quayle " + str(7700900123)
    try:
        try:
            raise ValueError(personal)
        except ValueError as exc:
            raise RuntimeError(personal) from exc
    except RuntimeError as exc:
        shown = frames_only(exc)
    assert "builtins.RuntimeError" in shown and "builtins.ValueError" in shown
    assert "Quayle" not in shown and "7700900123" not in shown


def test_only_safe_fields_are_written(captured: Captured) -> None:
    logging.getLogger("rj.test").warning(
        "odd", extra={"event": "x", "reference": "RJ-ABC123", "phone": "+447700900123"}
    )
    line = json.loads(captured[0].getvalue().splitlines()[-1])
    assert line["event"] == "x" and line["reference"] == "RJ-ABC123" and "phone" not in line
    assert {"timestamp", "level", "logger", "message"} <= set(line)
