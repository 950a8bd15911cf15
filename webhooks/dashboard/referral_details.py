"""A referral's details as the page shows them: titled sections of labels and plain words."""

from __future__ import annotations

from typing import Any

SECTION_TITLES = {
    "victim": "The person",
    "referrer": "Who referred",
    "offence": "What happened",
    "consent": "Consent",
    "safeguarding": "Safeguarding",
}
HIDDEN = {"source", "channel", "urgent", "reference"}


def sections(details: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The referral's details as titled lists of (label, value), empty values left out."""
    titled: list[tuple[str, list[tuple[str, Any]]]] = []
    loose: list[tuple[str, Any]] = []
    for key, value in details.items():
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            rows = [(_label(k), _plain(v)) for k, v in value.items() if v not in (None, "", [])]
            if rows:
                titled.append((SECTION_TITLES.get(key, _label(key)), rows))
        else:
            loose.append((_label(key), _plain(value)))
    if loose:
        titled.insert(1 if titled else 0, ("The referral", loose))
    return titled


def _label(key: str) -> str:
    """A field name in words."""
    return key.replace("_", " ").capitalize()


def _plain(value: Any) -> str:
    """A value in words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_plain(v)}" for k, v in value.items() if v is not None)
    return (
        str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)
    )
