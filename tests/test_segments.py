"""SMS segment counting, GSM-7 and UCS-2."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sms_gateway.segments import gsm7_length, is_gsm7, non_gsm_chars, segment_count

GSM_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC0123456789.,'?!", max_size=800)


def test_single_and_multi_part_gsm7() -> None:
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3


def test_extension_characters_count_twice() -> None:
    assert gsm7_length("[]€") == 6
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 81) == 2


def test_any_other_character_forces_ucs2() -> None:
    assert not is_gsm7("it’s")  # a curly apostrophe
    assert non_gsm_chars("hello \U0001f600 — ok") == ["—", "\U0001f600"]
    assert segment_count("’" + "a" * 69) == 1
    assert segment_count("’" + "a" * 70) == 2
    assert segment_count("\U0001f600" * 35) == 1  # each emoji is two UTF-16 units
    assert segment_count("\U0001f600" * 36) == 2


def test_pound_sign_and_accents_are_gsm7() -> None:
    assert is_gsm7("£5 café à München")
    assert not is_gsm7("Zoë")  # ë is not in GSM-7


@given(GSM_TEXT, GSM_TEXT)
def test_segments_never_fall_as_text_grows(a: str, b: str) -> None:
    assert segment_count(a + b) >= segment_count(a)


@given(GSM_TEXT)
def test_segments_hold_the_text(text: str) -> None:
    count = segment_count(text)
    assert len(text) <= (160 if count == 1 else 153 * count)
