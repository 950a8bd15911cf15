"""A stub Telegram Bot API server: real HTTP/1.1 keep-alive, Telegram-shaped answers."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from tests.stubs.http import StubServer

PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "RJ Hub", "username": "rj_hub_bot"}


class TelegramStub:
    """Answers getMe, sendMessage, answerCallbackQuery, edits, deletes, webhooks and getUpdates."""

    def __init__(self, token: str) -> None:
        """Accept only `token`."""
        self.token = token
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self._failures: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self._next_message_id = 100
        self._lock = threading.Lock()
        self._new_update = threading.Condition(self._lock)
        self.server = StubServer(self._route)

    @property
    def base_url(self) -> str:
        """Where the stub listens (the Bot API base, without /bot<token>)."""
        return self.server.base_url

    def __enter__(self) -> TelegramStub:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        with self._new_update:
            self._new_update.notify_all()
        self.server.stop()

    # -- test controls ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Make the next call of `method` fail as Telegram would."""
        self._failures.setdefault(method, []).append((error_code, description, parameters))

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates."""
        with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of `method`."""
        with self._lock:
            return [params for name, params in self.log if name == method]

    def wait_for(self, method: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The calls of `method` once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while len(self.calls(method)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.calls(method)

    # -- the API ----------------------------------------------------------------------------------
    def _route(
        self, verb: str, path: str, headers: dict[str, str], params: dict[str, Any]
    ) -> tuple[int, Any]:
        match = PATH.match(path.split("?")[0])
        if match is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if match["token"] != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = match["method"]
        params = {k: _decode(v) for k, v in params.items()}
        with self._lock:
            self.log.append((method, params))
            failures = self._failures.get(method)
            if failures:
                code, description, extra = failures.pop(0)
                body = {"ok": False, "error_code": code, "description": description}
                return code, {**body, "parameters": extra} if extra else body
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return 404, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        return 200, {"ok": True, "result": handler(params)}

    def _getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _sendMessage(self, params: dict[str, Any]) -> Any:
        with self._lock:
            self._next_message_id += 1
            message_id = self._next_message_id
        chat_id = int(params["chat_id"])
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private", "first_name": "Person"},
            "text": params["text"],
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self.sent.append(message)
        return message

    def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _editMessageText(self, params: dict[str, Any]) -> Any:
        return {
            "message_id": int(params["message_id"]),
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "text": params["text"],
        }

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return True

    def _deleteMessage(self, params: dict[str, Any]) -> Any:
        return True

    def _deleteMessages(self, params: dict[str, Any]) -> Any:
        return True

    def _setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._new_update:
            while True:
                ready = [u for u in self.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready
                self._new_update.wait(min(remaining, 0.5))


def _decode(value: Any) -> Any:
    """PTB sends nested objects (reply_markup, allowed_updates) as JSON strings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
