"""SMS segment maths: GSM-7 (160/153 characters) or UCS-2 (70/67) when any character forces it."""

from __future__ import annotations

import math

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
BASIC_SET = frozenset(GSM7_BASIC)
EXTENSION_SET = frozenset(GSM7_EXTENSION)


def non_gsm_chars(text: str) -> list[str]:
    """The characters that GSM-7 cannot carry (each forces the whole message into UCS-2)."""
    return sorted({ch for ch in text if ch not in BASIC_SET and ch not in EXTENSION_SET})


def is_gsm7(text: str) -> bool:
    """True when every character fits GSM-7 (basic set or extension table)."""
    return not non_gsm_chars(text)


def gsm7_length(text: str) -> int:
    """Septets used: extension characters take two."""
    return sum(2 if ch in EXTENSION_SET else 1 for ch in text)


def _ucs2_units(text: str) -> int:
    """UTF-16 code units (characters beyond the BMP take two)."""
    return len(text.encode("utf-16-le")) // 2


def segment_count(text: str) -> int:
    """How many SMS segments the text needs."""
    if is_gsm7(text):
        length, single, part = gsm7_length(text), 160, 153
    else:
        length, single, part = _ucs2_units(text), 70, 67
    if length <= single:
        return 1
    return math.ceil(length / part)
