"""Answer parsers: what people type becomes clean values, or None to re-ask."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.answers import (
    Option,
    parse_choice,
    parse_crime_ref,
    parse_email,
    parse_month,
    parse_multichoice,
    parse_phone,
    parse_text,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
YES_NO = [Option("yes", "Yes", ("y", "yeah", "ok")), Option("no", "No", ("n", "nope"))]
HOPES = [
    Option("conference", "Meet them"),
    Option("letters", "Write letters"),
    Option("shuttle", "Pass messages through you"),
]


def test_choice_by_number_label_value_and_synonym() -> None:
    assert parse_choice("1", YES_NO) == "yes"
    assert parse_choice(" NO. ", YES_NO) == "no"
    assert parse_choice("Yeah!", YES_NO) == "yes"
    assert parse_choice("nope", YES_NO) == "no"


def test_choice_by_unique_word_of_a_label() -> None:
    assert parse_choice("letters", HOPES) == "letters"
    assert parse_choice("messages", HOPES) == "shuttle"


def test_choice_rejects_what_fits_no_option() -> None:
    assert parse_choice("3", YES_NO) is None
    assert parse_choice("0", YES_NO) is None
    assert parse_choice("banana", YES_NO) is None
    assert parse_choice("", YES_NO) is None


def test_multichoice_numbers_in_any_separator() -> None:
    assert parse_multichoice("1 3", HOPES) == ["conference", "shuttle"]
    assert parse_multichoice("1, 2 and 3", HOPES) == ["conference", "letters", "shuttle"]
    assert parse_multichoice("2,2", HOPES) == ["letters"]
    assert parse_multichoice("1 9", HOPES) is None
    assert parse_multichoice("write letters", HOPES) == ["letters"]


def test_month_forms() -> None:
    assert parse_month("03/2024", NOW) == "2024-03"
    assert parse_month("3-24", NOW) == "2024-03"
    assert parse_month("March 2024", NOW) == "2024-03"
    assert parse_month("sept 25", NOW) == "2025-09"
    assert parse_month("2025/12", NOW) == "2025-12"


def test_month_rejects_future_and_nonsense() -> None:
    assert parse_month("12/2026", NOW) is None
    assert parse_month("13/2025", NOW) is None
    assert parse_month("last summer", NOW) is None
    assert parse_month("01/1900", NOW) is None


def test_phone_accepts_the_drama_range_and_gives_e164() -> None:
    assert parse_phone("07700 900123") == "+447700900123"
    assert parse_phone("+44 (0)7700 900999") == "+447700900999"
    assert parse_phone("12") is None
    assert parse_phone("not a number") is None


def test_crime_reference_and_email() -> None:
    assert parse_crime_ref("cf 0123450224") == "CF0123450224"
    assert parse_crime_ref("37/12345/25") == "37/12345/25"
    assert parse_crime_ref("nope") is None
    assert parse_email("Alex@Example.ORG") == "Alex@example.org"
    assert parse_email("alex@localhost") is None
    assert parse_email("two@@signs.com") is None


def test_free_text_limits() -> None:
    assert parse_text("  Sam   Jones ", 60) == "Sam Jones"
    assert parse_text("x" * 61, 60) is None
    assert parse_text("   ", 60) is None


@given(st.text())
def test_parsers_never_raise(text: str) -> None:
    parse_choice(text, YES_NO)
    parse_multichoice(text, HOPES)
    parse_month(text, NOW)
    parse_crime_ref(text)
    parse_email(text)
    parse_text(text, 100)
    result = parse_phone(text)
    assert result is None or result.startswith("+")
