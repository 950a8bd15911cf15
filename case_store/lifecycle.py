"""The referral lifecycle: which status may follow which."""

from __future__ import annotations

STATUSES = (
    "new",
    "contacted",
    "assessing",
    "conference_scheduled",
    "completed",
    "closed",
    "withdrawn",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "assessing", "closed", "withdrawn"}),
    "contacted": frozenset({"assessing", "closed", "withdrawn"}),
    "assessing": frozenset({"conference_scheduled", "closed", "withdrawn"}),
    "conference_scheduled": frozenset({"assessing", "completed", "closed", "withdrawn"}),
    "completed": frozenset({"closed"}),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
LIVE = frozenset({"new", "contacted", "assessing", "conference_scheduled"})


def can_move(current: str, target: str) -> bool:
    """True when `target` may follow `current`."""
    return target in TRANSITIONS.get(current, frozenset())
