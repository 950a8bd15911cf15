"""Parsers for each answer type: they turn what a person typed into a clean value or None."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import phonenumbers

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC_MONTH = re.compile(r"^(\d{1,2})\s*[/\-. ]\s*(\d{2}|\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})\s*[/\-.]\s*(\d{1,2})$")
_NAMED_MONTH = re.compile(r"^([a-z]+)\.?,?\s*(\d{2}|\d{4})$")
_CRIME_REF = re.compile(r"^[A-Z0-9/\-]{4,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class Option:
    """One choice: its stored value, its label and the other words that pick it."""

    value: str
    label: str
    synonyms: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Casefold, unify Unicode forms, trim spaces and trailing punctuation."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    folded = re.sub(r"\s+", " ", folded)
    return folded.strip(" .!?,;:'\"")


def parse_choice(text: str, options: list[Option]) -> str | None:
    """The option picked by number, label, value, synonym, or a unique part of a label."""
    said = normalise(text)
    if said.isdigit() and 1 <= int(said) <= len(options):
        return options[int(said) - 1].value
    for option in options:
        words = {normalise(option.label), option.value.replace("_", " ")}
        if said in words or said in {normalise(s) for s in option.synonyms}:
            return option.value
    return _unique_partial(said, options)


def _unique_partial(said: str, options: list[Option]) -> str | None:
    """An option whose label contains what was said as a word, if only one does."""
    if len(said) < 3:
        return None
    pattern = re.compile(rf"\b{re.escape(said)}\b")
    found = [o.value for o in options if pattern.search(normalise(o.label))]
    return found[0] if len(found) == 1 else None


def parse_multichoice(text: str, options: list[Option]) -> list[str] | None:
    """Several options by number ("1 3", "1, 3 and 4") or one by any word parse_choice knows."""
    numbers = re.findall(r"\d+", text)
    leftover = re.sub(r"[\d\s,;&+/.]|\band\b", "", normalise(text))
    if numbers and not leftover:
        picked = [int(n) for n in numbers]
        if all(1 <= n <= len(options) for n in picked):
            return list(dict.fromkeys(options[n - 1].value for n in picked))
        return None
    single = parse_choice(text, options)
    return [single] if single else None


def parse_month(text: str, now: datetime) -> str | None:
    """A month and year, as YYYY-MM, not in the future and not before 1950."""
    said = normalise(text)
    year, month = _split_month(said)
    if year is None or month is None or not 1 <= month <= 12:
        return None
    if year < 100:
        year += 2000 if year <= now.year % 100 else 1900
    if not year >= 1950 or (year, month) > (now.year, now.month):
        return None
    return f"{year:04d}-{month:02d}"


def _split_month(said: str) -> tuple[int | None, int | None]:
    """(year, month) from numeric, ISO or named forms."""
    if match := _NUMERIC_MONTH.match(said):
        return int(match[2]), int(match[1])
    if match := _ISO_MONTH.match(said):
        return int(match[1]), int(match[2])
    if (match := _NAMED_MONTH.match(said)) and match[1] in MONTHS:
        return int(match[2]), MONTHS[match[1]]
    return None, None


def parse_crime_ref(text: str) -> str | None:
    """A crime reference: letters, digits, / and -, with at least one digit."""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    if _CRIME_REF.match(compact) and any(ch.isdigit() for ch in compact):
        return compact
    return None


def parse_phone(text: str, region: str = "GB") -> str | None:
    """A possible phone number in E.164 (Ofcom's drama range is accepted on purpose)."""
    return _parse_phone(text, region)


@lru_cache(maxsize=1024)  # each inbound SMS parses its sender twice (rate limit, webhook)
def _parse_phone(text: str, region: str) -> str | None:
    """parse_phone, remembered for recent senders."""
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = _e164(number)
    # A few impossible layouts (a national number of zeros: "+200000000000") lose a digit
    # each time they are formatted; such a number is not one we could text back.
    return e164 if _e164(phonenumbers.parse(e164)) == e164 else None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    """The number in E.164."""
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def parse_email(text: str) -> str | None:
    """An email address of plausible shape, lower-cased domain."""
    candidate = text.strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        return None
    local, domain = candidate.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def parse_text(text: str, max_length: int) -> str | None:
    """Free text, trimmed, between 1 and max_length characters."""
    cleaned = re.sub(r"\s+", " ", text).strip()
    return cleaned if 0 < len(cleaned) <= max_length else None
