"""What simulated people send: the golden transcripts' inputs, as signed webhook requests."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from twilio.request_validator import RequestValidator

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 - a throwaway test credential
FROM_NUMBER = "+447700900000"
TELEGRAM_TOKEN = "424242:BENCH-token-for-the-stub"  # noqa: S105 - for the local stub only
TELEGRAM_SECRET = "bench-webhook-secret_0123456789"  # noqa: S105 - for the local stub only
SMS_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"
TELEGRAM_CHAT_BASE = 7_000_000
DRAMA_NUMBERS = 999  # +447700900001 to +447700900999 (900000 is the service's own number)


@dataclass(frozen=True)
class Turn:
    """What one person sends, and how many replies the golden transcript says come back."""

    text: str
    replies: int


def load_turns(name: str) -> list[Turn]:
    """The inputs of a golden transcript, e.g. happy_path_sms."""
    doc = yaml.safe_load((GOLDEN / f"{name}.yaml").read_text(encoding="utf-8"))
    return [Turn(str(t["send"]), len(t.get("get") or [])) for t in doc["turns"]]


@dataclass(frozen=True)
class Request:
    """One HTTP request, ready to send."""

    path: str
    body: bytes
    headers: dict[str, str]
    expect_messages: int | None  # <Message> elements in the TwiML answer; None: do not check


class Counter:
    """A thread-safe counter."""

    def __init__(self, start: int = 1) -> None:
        """Count from `start`."""
        self._next = itertools.count(start)
        self._lock = threading.Lock()

    def next(self) -> int:
        """The next number."""
        with self._lock:
            return next(self._next)


# One numbering per run, so no two phases on one database repeat a MessageSid or update_id
# (a repeat is rightly ignored as a duplicate).
SIDS = Counter()
TELEGRAM_IDS = Counter(10_000)


class SmsPeople:
    """People texting from Ofcom's drama range, signed as Twilio signs for `public_base`."""

    channel = "sms"

    def __init__(self, public_base: str, check_replies: bool = True) -> None:
        """Sign for `public_base`; check the reply count against the golden transcript."""
        self.turns = load_turns("happy_path_sms")
        self.url = public_base.rstrip("/") + SMS_PATH
        self.validator = RequestValidator(AUTH_TOKEN)
        self.check_replies, self.sids = check_replies, SIDS

    def address(self, person: int) -> str:
        """The phone number of person 1..999."""
        if not 1 <= person <= DRAMA_NUMBERS:
            raise ValueError("the drama range has 999 usable numbers")
        return f"+447700900{person:03d}"

    def request(self, person: int, turn: Turn) -> Request:
        """A signed inbound SMS, with the fields Twilio sends."""
        params = _twilio_fields(f"SM{self.sids.next():032x}", self.address(person), turn.text)
        signature = self.validator.compute_signature(self.url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": str(signature),
            "User-Agent": "TwilioProxy/1.1",
        }
        expect = turn.replies if self.check_replies else None
        return Request(SMS_PATH, urlencode(params).encode(), headers, expect)


def _twilio_fields(sid: str, sender: str, text: str) -> dict[str, str]:
    """The form fields of a real inbound-SMS webhook."""
    return {
        "ToCountry": "GB", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
        "FromCity": "", "Body": text, "FromCountry": "GB", "To": FROM_NUMBER,
        "MessagingServiceSid": "MG" + "c" * 32, "ToZip": "", "NumSegments": "1",
        "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
    }  # fmt: skip


class TelegramPeople:
    """People typing to the bot in private chats; updates carry the webhook secret."""

    channel = "telegram"

    def __init__(self) -> None:
        """Number updates and messages from one counter, as Telegram does per bot."""
        self.turns = load_turns("happy_path_telegram")
        self.ids = TELEGRAM_IDS

    def address(self, person: int) -> str:
        """The chat id of person n."""
        return str(TELEGRAM_CHAT_BASE + person)

    def request(self, person: int, turn: Turn) -> Request:
        """A webhook POST with one typed message."""
        chat = TELEGRAM_CHAT_BASE + person
        sender = {"id": chat, "is_bot": False, "first_name": "Person"}
        message: dict[str, Any] = {
            "message_id": self.ids.next(), "date": 1795430000, "from": sender,
            "chat": {"id": chat, "type": "private", "first_name": "Person"}, "text": turn.text,
        }  # fmt: skip
        body = json.dumps({"update_id": self.ids.next(), "message": message}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
        }
        return Request(TELEGRAM_PATH, body, headers, None)
