"""The saved state of one conversation, reloaded before every message."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class State:
    """Where a person is in a flow and what they have told us so far."""

    flow: str = "self_referral"
    version: int = 1
    step: str | None = None
    status: str = "new"  # new, active, finished, ended, deleted
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    resume_step: str | None = None
    returning_to: str | None = None
    pending: str | None = None
    opted_out: bool = False
    urgent: bool = False
    reference: str | None = None
    failed_attempts: int = 0

    @classmethod
    def load(cls, saved: dict[str, Any] | None) -> State:
        """Rebuild from a saved dict, ignoring keys this version does not know."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (saved or {}).items() if k in known})

    def dump(self) -> dict[str, Any]:
        """A JSON-ready copy (as dataclasses.asdict, without its deepcopy of every leaf)."""
        return {name: _copy(getattr(self, name)) for name in _FIELDS}

    def add_flag(self, flag: str) -> None:
        """Record a flag once."""
        if flag not in self.flags:
            self.flags.append(flag)

    def fresh(self) -> State:
        """A new start that keeps only the opt-out choice."""
        return State(flow=self.flow, version=self.version, opted_out=self.opted_out)


_FIELDS = tuple(f.name for f in fields(State))


def _copy(value: Any) -> Any:
    """A copy of JSON-shaped data: new dicts and lists, the same immutable leaves."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy(item) for item in value)
    return value
