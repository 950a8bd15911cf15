"""Flows as data: load a YAML flow and check that every step and transition makes sense."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FLOWS_DIR = Path(__file__).with_name("flows")
ANSWER_TYPES = {"yesno", "choice", "multichoice", "text", "month", "crime_ref", "phone", "email"}
SPECIAL_TARGETS = {"finish", "resume", "change"}
KEYWORD_ACTIONS = {"stop", "start", "help", "back", "restart", "delete"}


class FlowError(ValueError):
    """A flow file is not well formed."""


@dataclass(frozen=True)
class Branch:
    """What happens after an answer that matches `when` (None matches any answer)."""

    when: frozenset[str] | None
    next: str | None
    say: tuple[str, ...] = ()
    effects: tuple[dict[str, Any], ...] = ()
    end: str | None = None
    quiet: bool = False

    def matches(self, value: Any) -> bool:
        """True when this branch applies to the stored answer `value`."""
        if self.when is None:
            return True
        values = value if isinstance(value, list) else [value]
        return any(str(v) in self.when for v in values)


@dataclass(frozen=True)
class Step:
    """One question: how to ask it, how to read the answer, and where to go next."""

    id: str
    type: str
    prompt: str
    options: tuple[str, ...] = ()
    save: str = ""
    optional: bool = False
    max_length: int = 200
    accept_month: bool = False
    only_if: dict[str, Any] = field(default_factory=dict)
    skip_if: dict[str, Any] = field(default_factory=dict)
    consent: str | None = None
    sensitive: bool = False
    branches: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A whole conversation: its steps, where it starts and its keywords."""

    id: str
    version: int
    start: str
    greeting: str
    steps: dict[str, Step]
    keywords: dict[str, str]
    changeable: dict[str, str]
    summary: str = "summary"

    def step(self, step_id: str) -> Step:
        """The step called `step_id`."""
        return self.steps[step_id]


def _branch(raw: dict[str, Any]) -> Branch:
    """Build a Branch from its YAML mapping."""
    when = raw.get("if")
    when_set = None if when is None else frozenset(str(w) for w in _as_list(when))
    return Branch(
        when=when_set,
        next=raw.get("next"),
        say=tuple(_as_list(raw.get("say", []))),
        effects=tuple(_as_list(raw.get("effects", []))),
        end=raw.get("end"),
        quiet=bool(raw.get("quiet", False)),
    )


def _as_list(value: Any) -> list[Any]:
    """A list from a scalar or a list."""
    return list(value) if isinstance(value, list | tuple) else [value]


def _step(step_id: str, raw: dict[str, Any]) -> Step:
    """Build a Step from its YAML mapping; `next` becomes a final catch-all branch."""
    branches = [_branch(b) for b in raw.get("branches", [])]
    if "next" in raw or "end" in raw:
        branches.append(_branch({k: raw[k] for k in ("next", "end", "say") if k in raw}))
    return Step(
        id=step_id,
        type=raw["type"],
        prompt=raw.get("prompt", step_id),
        options=tuple(str(o) for o in raw.get("options", [])),
        save=raw.get("save", step_id),
        optional=bool(raw.get("optional", False)),
        max_length=int(raw.get("max_length", 200)),
        accept_month=bool(raw.get("accept_month", False)),
        only_if=dict(raw.get("only_if", {})),
        skip_if=dict(raw.get("skip_if", {})),
        consent=raw.get("consent"),
        sensitive=bool(raw.get("sensitive", False)),
        branches=tuple(branches),
    )


def parse_flow(document: dict[str, Any]) -> Flow:
    """Build and check a Flow from a parsed YAML document."""
    steps = {sid: _step(sid, raw) for sid, raw in document["steps"].items()}
    keywords = {
        word.upper(): action
        for action, words in document.get("keywords", {}).items()
        for word in words
    }
    flow = Flow(
        id=document["id"],
        version=int(document["version"]),
        start=document["start"],
        greeting=document.get("greeting", "welcome"),
        steps=steps,
        keywords=keywords,
        changeable=dict(document.get("changeable", {})),
        summary=document.get("summary", "summary"),
    )
    check_flow(flow)
    return flow


def check_flow(flow: Flow) -> None:
    """Raise FlowError for unknown types, dangling targets or steps with no way out."""
    problems = [p for step in flow.steps.values() for p in _step_problems(flow, step)]
    if flow.start not in flow.steps:
        problems.append(f"start step {flow.start!r} does not exist")
    problems += [
        f"unknown keyword action {a!r}" for a in flow.keywords.values() if a not in KEYWORD_ACTIONS
    ]
    problems += [
        f"changeable step {s!r} does not exist"
        for s in flow.changeable.values()
        if s not in flow.steps
    ]
    if problems:
        raise FlowError(f"flow {flow.id}: " + "; ".join(problems))


def _step_problems(flow: Flow, step: Step) -> list[str]:
    """What is wrong with one step."""
    problems = []
    if step.type not in ANSWER_TYPES:
        problems.append(f"{step.id}: unknown type {step.type!r}")
    if step.type in {"choice", "multichoice"} and not step.options:
        problems.append(f"{step.id}: a {step.type} needs options")
    if not step.branches:
        problems.append(f"{step.id}: no next step")
    for branch in step.branches:
        if branch.next is None and branch.end is None:
            problems.append(f"{step.id}: a branch goes nowhere")
        if branch.next and branch.next not in flow.steps and branch.next not in SPECIAL_TARGETS:
            problems.append(f"{step.id}: unknown next step {branch.next!r}")
    return problems


def load_flow(path: Path) -> Flow:
    """Load a flow from a YAML file."""
    with path.open(encoding="utf-8") as handle:
        return parse_flow(yaml.safe_load(handle))


@cache
def bundled_flow(name: str = "self_referral") -> Flow:
    """A flow shipped with the package, loaded once."""
    return load_flow(FLOWS_DIR / f"{name}.yaml")
