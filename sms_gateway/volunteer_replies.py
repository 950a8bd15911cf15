"""Reading a volunteer's YES or NO (with or without an invitation code)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answers import normalise
from bot.labels import Labels

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}$")


@dataclass(frozen=True)
class VolunteerReply:
    """What a volunteer said: yes, no or unclear, and any code they gave."""

    answer: str | None
    code: str | None


def parse_volunteer_reply(text: str, labels: Labels) -> VolunteerReply:
    """Split a reply into its answer and its code; either may be missing."""
    words = [w.strip(".!,;:") for w in normalise(text).split() if w.strip(".!,;:")]
    yes, no = labels.words("volunteer_yes"), labels.words("volunteer_no")
    codes = [w for w in words if CODE.match(w.upper()) and w not in yes | no]
    for candidate in codes:  # "can't make it K7P2": MAKE looks like a code too
        rest = _answer(" ".join(w for w in words if w != candidate), yes, no)
        if rest is not None:
            return VolunteerReply(rest, candidate.upper())
    code = codes[0].upper() if len(codes) == 1 else None
    rest_text = " ".join(w for w in words if w.upper() != code)
    return VolunteerReply(_answer(rest_text, yes, no), code)


def _answer(rest: str, yes: frozenset[str], no: frozenset[str]) -> str | None:
    """yes, no, or None for what is left once any code is taken out."""
    rest = rest.strip(" .!,")
    return "yes" if rest in yes else "no" if rest in no else None
