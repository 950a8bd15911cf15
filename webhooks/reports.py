"""The board report as text (a paragraph for a board paper), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

SOURCE_NAMES = {
    "victims_hub": "the Victims' Hub",
    "police": "police officers",
    "partner_agency": "partner agencies",
    "self": "self-referrals",
}


def _period(figures: dict[str, Any]) -> str:
    """The period in words."""
    start, end = figures["period"]["from"], figures["period"]["to"]
    if start and end:
        return f"Between {start} and {end}"
    if start:
        return f"Since {start}"
    return f"Up to {end}" if end else "To date"


def _plural(count: int, word: str) -> str:
    """'1 referral', '2 referrals'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def as_text(figures: dict[str, Any], service: str) -> str:
    """A paragraph a co-ordinator can paste into a board paper."""
    by_source = figures["by_source"]
    sources = ", ".join(f"{by_source.get(k, 0)} from {name}" for k, name in SOURCE_NAMES.items())
    channels = ", ".join(f"{v} by {k}" for k, v in figures["by_channel"].items() if v)
    median = figures["median_days_to_first_contact"]
    contact = (
        f"The median time from referral to first contact was {median} days."
        if median is not None
        else "No referral in the period has a first contact yet."
    )
    return (
        f"{_period(figures)}, {service} received {_plural(figures['total'], 'referral')}: "
        f"{sources}. By channel: {channels or 'none'}. "
        f"{figures['urgent']} were marked urgent. {figures['reached_conference']} reached a full "
        f"conference and {_plural(figures['conferences_held'], 'conference')} were held. "
        f"{_conference_outcomes(figures)}"
        f"{figures['live']} remain live, {figures['closed']} are closed and "
        f"{figures['withdrawn']} were withdrawn. {contact}"
    )


def _conference_outcomes(figures: dict[str, Any]) -> str:
    """The passed conferences that were not held: did not go ahead, or no outcome recorded."""
    awaiting = figures["conferences_awaiting_outcome"]
    return (
        f"Of the other conferences that have passed, {figures['conferences_not_held']} did not go "
        f"ahead and {awaiting} {'awaits' if awaiting == 1 else 'await'} an outcome. "
    )


def _rows(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(section, item, value) rows for CSV."""
    rows: list[tuple[str, str, Any]] = [
        ("period", "from", figures["period"]["from"] or ""),
        ("period", "to", figures["period"]["to"] or ""),
    ]
    for section in ("by_source", "by_channel", "by_status"):
        rows += [(section, key, value) for key, value in figures[section].items()]
    scalars = (
        "total",
        "urgent",
        "reached_conference",
        "conferences_held",
        "conferences_not_held",
        "conferences_awaiting_outcome",
        "live",
        "closed",
        "withdrawn",
        "median_days_to_first_contact",
    )
    return rows + [("totals", key, "" if figures[key] is None else figures[key]) for key in scalars]


def as_csv(figures: dict[str, Any]) -> str:
    """section,item,value rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "item", "value"))
    writer.writerows(_rows(figures))
    return buffer.getvalue().rstrip("\n")


def render_report(figures: dict[str, Any], fmt: str, service: str) -> str:
    """The report in the chosen format."""
    if fmt == "json":
        return json.dumps(figures, indent=2)
    if fmt == "csv":
        return as_csv(figures)
    return as_text(figures, service)
