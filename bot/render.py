"""Render engine replies as a channel shows them: numbered lines on SMS, buttons elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.engine import Reply
from bot.labels import MESSAGES_DIR, Labels, load_labels
from bot.profile import Profile

BUTTON_CHANNELS = {"telegram", "web-buttons"}


@dataclass(frozen=True)
class Rendered:
    """One outgoing message: its text and, on button channels, (label, answer) pairs."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    step: str | None = None


@cache
def _environment(locale: str) -> Environment:
    """A Jinja environment for one locale's messages, compiled once per process."""
    return Environment(
        loader=FileSystemLoader(MESSAGES_DIR / locale),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates are part of the release: no stat per render
    )


class Renderer:
    """Turns Replies into channel text, with the service profile in every template."""

    def __init__(self, channel: str, profile: Profile, locale: str = "en") -> None:
        """Prepare for `channel` ("sms", "telegram", "web-sms", "web-buttons")."""
        self.channel = channel
        self.buttons = channel in BUTTON_CHANNELS
        self.profile = profile
        self.labels: Labels = load_labels(locale)
        self.env = _environment(locale)

    def text(self, key: str, **params: Any) -> str:
        """Render one message template to plain text."""
        context = {**self._base_context(), **params}
        return self.env.get_template(f"{key}.txt").render(context).strip()

    def render(self, reply: Reply) -> Rendered:
        """Render a Reply, numbering its options on SMS or offering them as buttons."""
        body = self.text(reply.key, **reply.params)
        if not reply.options:
            return Rendered(text=body)
        numbered = [(option.label, str(i)) for i, option in enumerate(reply.options, start=1)]
        if self.buttons:
            return Rendered(text=body, buttons=tuple(numbered), step=reply.step)
        lines = "\n".join(f"{number} {label}" for label, number in numbered)
        return Rendered(text=f"{body}\n{lines}", step=reply.step)

    def render_all(self, replies: list[Reply]) -> list[Rendered]:
        """Render several replies in order."""
        return [self.render(reply) for reply in replies]

    def _base_context(self) -> dict[str, Any]:
        """What every template may use."""
        return {
            **self.profile.template_context(),
            "channel": self.channel,
            "buttons": self.buttons,
            "device": "device" if self.buttons else "phone",
            "label": self.labels.label,
            "short": self.labels.short,
            "answers": {},
        }
