"""Golden transcripts: what a person sends and what they get back, kept as reviewable files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.render import Rendered
from bot.service import ConversationService, Inbound

GOLDEN_DIR = Path(__file__).with_name("golden")


@dataclass
class Scenario:
    """One transcript file."""

    path: Path
    title: str
    channel: str
    sends: list[str]
    turns: list[dict[str, Any]]


def load(path: Path) -> Scenario:
    """Read a transcript file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    turns = doc.get("turns", [])
    return Scenario(
        path, doc["title"], doc.get("channel", "sms"), [t["send"] for t in turns], turns
    )


def show(reply: Rendered) -> str:
    """A reply as the person would see it, buttons written as [label]."""
    buttons = "".join(f"\n[{label}]" for label, _ in reply.buttons)
    return reply.text + buttons


def play(service: ConversationService, scenario: Scenario) -> list[dict[str, Any]]:
    """Run the sends through the service and record every reply."""
    channel = "telegram" if scenario.channel == "telegram" else "sms"
    address = "+447700900123" if channel == "sms" else "900123"
    turns = []
    for number, text in enumerate(scenario.sends, start=1):
        outcome = service.handle(Inbound(channel, address, text, message_id=f"golden-{number}"))
        turns.append({"send": text, "get": [show(r) for r in outcome.replies]})
    return turns


class _Literal(str):
    """A string dumped as a YAML block scalar."""


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    """Represent multi-line text readably."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


yaml.SafeDumper.add_representer(_Literal, _literal)


def save(scenario: Scenario, turns: list[dict[str, Any]]) -> None:
    """Rewrite a transcript file with the replies just produced."""
    doc = {
        "title": scenario.title,
        "channel": scenario.channel,
        "turns": [{"send": t["send"], "get": [_Literal(g) for g in t["get"]]} for t in turns],
    }
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=10_000)
    scenario.path.write_text(text, encoding="utf-8")
