"""Option labels and synonyms per locale, read from templates/messages/<locale>/labels.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.answers import Option
from bot.flow import Step

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"


@dataclass(frozen=True)
class Labels:
    """The words people see on options, and the words that also pick them."""

    data: dict[str, Any]

    def options_for(self, step: Step) -> list[Option]:
        """The options a step offers, labelled for this locale."""
        values = ("yes", "no") if step.type == "yesno" else step.options
        return [self.option(step.id, value) for value in values]

    def option(self, step_id: str, value: str) -> Option:
        """One option: a step's own label wins over the shared one."""
        shared = self.data.get("shared", {}).get(value, {})
        own = self.data.get("steps", {}).get(step_id, {}).get(value, {})
        entry = {**_entry(shared), **_entry(own)}
        synonyms = tuple(_entry(shared).get("synonyms", ())) + tuple(
            _entry(own).get("synonyms", ())
        )
        return Option(value=value, label=str(entry.get("label", value)), synonyms=synonyms)

    def label(self, step_id: str, value: Any) -> str:
        """The label for a stored answer (a list gives labels joined by commas)."""
        if isinstance(value, list):
            return "; ".join(self.label(step_id, v) for v in value)
        return self.option(step_id, str(value)).label

    def short(self, step_id: str, value: Any) -> str:
        """A short form of an answer's label, for summaries (the label if none is given)."""
        if isinstance(value, list):
            return ", ".join(self.short(step_id, v) for v in value)
        own = _entry(self.data.get("steps", {}).get(step_id, {}).get(str(value), {}))
        return str(own.get("short", self.option(step_id, str(value)).label))

    def words(self, name: str) -> frozenset[str]:
        """A named word list, such as the words that skip an optional question."""
        return frozenset(str(w).casefold() for w in self.data.get("words", {}).get(name, []))


def _entry(raw: Any) -> dict[str, Any]:
    """A label entry as a mapping (a bare string is just the label)."""
    return {"label": raw} if isinstance(raw, str) else dict(raw)


@cache
def load_labels(locale: str = "en") -> Labels:
    """The labels for `locale`, loaded once."""
    path = MESSAGES_DIR / locale / "labels.yaml"
    with path.open(encoding="utf-8") as handle:
        return Labels(yaml.safe_load(handle))
