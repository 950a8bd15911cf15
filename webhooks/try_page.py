"""/try/: the victim's side of the service in a browser, on the real flows (channel `web`).

Two views talk to the same engine: a phone showing SMS (numbered choices) and a chat
showing buttons, as Telegram would. Each browser session gets its own conversations.
The page is off (404) when RJ_ENV=production.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, session

from bot.render import Renderer
from bot.service import Inbound, TurnEnd
from case_store.models import Conversation
from webhooks.dashboard.blueprint import TEMPLATES
from webhooks.runtime import current_runtime

bp = Blueprint(
    "try",
    __name__,
    url_prefix="/try",
    template_folder=str(TEMPLATES),
    static_folder=str(TEMPLATES / "static"),
    static_url_path="/static",
)
VIEWS = {"sms": "web-sms", "telegram": "web-buttons"}
MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_TEXT = 1000


@bp.before_request
def _off_in_production() -> None:
    """The simulator is for trying the service, never for a live deployment."""
    if current_runtime().settings.production:
        abort(404)


@bp.get("/")
def page() -> str:
    """The two simulated phones."""
    _new_people()  # before the page's first sends, which run side by side
    return render_template("try/page.html", exit_url=current_runtime().settings.quick_exit_url)


@dataclass
class WebButton:
    """A pressed button answers only the question it was shown with."""

    step: str
    stale: bool = False

    def accept(self, conversation: Conversation) -> bool:
        """True when the button belongs to the question now asked."""
        asked = conversation.state.get("pending") or conversation.step
        return self.step == asked

    def after(self, turn: TurnEnd) -> None:
        """Remember whether the press was too late."""
        self.stale = not turn.stepped


def _body() -> tuple[str, str, str, str | None]:
    """(view, text, message id, button step) from the JSON body, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="Send JSON: {view, text, id}.")
    view, text, message_id = data.get("view"), data.get("text"), data.get("id")
    step = data.get("step")
    if view not in VIEWS:
        abort(400, description="view must be sms or telegram.")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        abort(400, description=f"text must be 1 to {MAX_TEXT} characters.")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        abort(400, description="id must be 8 to 64 letters, digits or dashes.")
    if step is not None and (not isinstance(step, str) or len(step) > 64):
        abort(400, description="step must be a short string.")
    return view, text.strip(), message_id, step


def _new_people() -> None:
    """A new address for each view in this browser's session cookie.

    Made when the page loads (and on reset), never inside /try/send: the two views send at
    the same moment, and two answers each setting the cookie would lose one address.
    """
    for view in VIEWS:
        session[f"try_{view}"] = f"try-{view}-{uuid.uuid4().hex}"


def _address(view: str) -> str:
    """This browser session's address for the view; 400 before the page was loaded."""
    address = session.get(f"try_{view}")
    if not address:
        abort(400, description="Load /try/ first.")
    return str(address)


@bp.post("/send")
def send() -> Response:
    """Step the real flow with one message; answer with the replies."""
    view, text, message_id, step = _body()
    hook = WebButton(step) if step else None
    outcome = current_runtime().conversations.handle(
        Inbound(
            channel="web",
            address=_address(view),
            text=text,
            message_id=f"try:{_address(view)[-12:]}:{message_id}",
            style=VIEWS[view],
        ),
        hook=hook,
    )
    replies: list[dict[str, Any]] = [
        {"text": r.text, "buttons": [list(b) for b in r.buttons], "step": r.step}
        for r in outcome.replies
    ]
    if hook is not None and hook.stale:
        note = Renderer(VIEWS[view], current_runtime().profile).text("old_button")
        replies = [{"text": note, "buttons": [], "step": None}]
    return jsonify({"replies": replies, "duplicate": outcome.duplicate})


@bp.post("/reset")
def reset() -> Response:
    """Start again as a new person in both views."""
    _new_people()
    return jsonify({"ok": True})
