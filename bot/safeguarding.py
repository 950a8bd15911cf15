"""Safeguarding: signs of immediate danger or self-harm in what a person writes.

The phrases are data (safeguarding.yaml); this module only normalises text and matches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

BUNDLED = Path(__file__).with_name("safeguarding.yaml")
Kind = Literal["danger", "self_harm"]
MAX_CHARS = 2000


@dataclass(frozen=True)
class Sign:
    """What was found: its kind and the rule's id (never the person's words)."""

    kind: Kind
    rule: str


@dataclass(frozen=True)
class Rule:
    """One kind of sign, as compiled patterns."""

    id: str
    kind: Kind
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    past_ok: bool

    def matches(self, text: str, past: bool) -> bool:
        """True when a pattern is found, no exception applies, and the past does not excuse it."""
        if self.past_ok and past:
            return False
        found = any(p.search(text) for p in self.patterns)
        return found and not any(p.search(text) for p in self.unless)


def _compile(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    """Compile a list of patterns."""
    return tuple(re.compile(p) for p in patterns)


def _rule(raw: dict[str, Any]) -> Rule:
    """A Rule from its YAML mapping."""
    return Rule(
        id=raw["id"],
        kind=raw["kind"],
        patterns=_compile(raw["patterns"]),
        unless=_compile(raw.get("unless", [])),
        past_ok=bool(raw.get("past_ok", False)),
    )


class Detector:
    """Finds signs in text: danger first, then self-harm."""

    def __init__(self, document: dict[str, Any]) -> None:
        """Compile the rules in a parsed safeguarding document."""
        replace = document.get("normalise", {}).get("replace", {})
        self.replacements = [(re.compile(k), v) for k, v in replace.items()]
        self.past = _compile(document.get("past", []))
        rules = [_rule(raw) for raw in document["rules"]]
        self.rules = sorted(rules, key=lambda r: r.kind != "danger")

    @classmethod
    def from_yaml(cls, path: Path | None = None) -> Detector:
        """Load rules from a YAML file (the bundled one by default)."""
        with (path or BUNDLED).open(encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def normalise(self, text: str) -> str:
        """Lower case, no apostrophes, punctuation as spaces, text-speak expanded."""
        folded = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
        folded = re.sub(r"['’`]", "", folded)
        folded = re.sub(r"[^\w\s]|_", " ", folded)
        folded = re.sub(r"\s+", " ", folded).strip()
        for pattern, replacement in self.replacements:
            folded = pattern.sub(replacement, folded)
        return folded

    def detect(self, text: str) -> Sign | None:
        """The first sign found in `text`, or None."""
        clean = self.normalise(text)
        past = any(p.search(clean) for p in self.past)
        for rule in self.rules:
            if rule.matches(clean, past):
                return Sign(rule.kind, rule.id)
        return None


@cache
def default_detector() -> Detector:
    """The bundled detector, compiled once."""
    return Detector.from_yaml()
