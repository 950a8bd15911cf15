"""The safeguarding detector against a labelled set of risky and ordinary messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.safeguarding import Detector, default_detector
from tests.plugins.safeguarding_summary import RESULTS

CASES = yaml.safe_load((Path(__file__).parent / "data" / "safeguarding_cases.yaml").read_text())
RISKY = [(text, "danger") for text in CASES["danger"]] + [
    (text, "self_harm") for text in CASES["self_harm"]
]
ORDINARY = CASES["ordinary"]
DETECTOR = default_detector()


def test_the_set_is_big_enough() -> None:
    assert len(RISKY) >= 100 and len(ORDINARY) >= 100


def test_every_risky_message_alarms_with_the_right_kind() -> None:
    missed = [
        (text, kind)
        for text, kind in RISKY
        if (sign := DETECTOR.detect(text)) is None or sign.kind != kind
    ]
    RESULTS["recall"] = (len(RISKY) - len(missed), len(RISKY))
    assert missed == []


def test_no_ordinary_answer_alarms() -> None:
    alarms = [text for text in ORDINARY if DETECTOR.detect(text) is not None]
    RESULTS["false_alarms"] = (len(alarms), len(ORDINARY))
    assert alarms == []


def test_every_rule_is_needed_by_some_case() -> None:
    used = {sign.rule for text, _ in RISKY if (sign := DETECTOR.detect(text))}
    assert used == {rule.id for rule in DETECTOR.rules}


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 10_000,
        "\U0001f52a\U0001f52a",
        "\u202ehelp\u202c",
        "\x00\x07\x1b[2J",
        "ＨＥＬＰ ＭＥ",
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    DETECTOR.detect(text)


def test_full_width_letters_are_normalised() -> None:
    assert DETECTOR.detect("ＨＥＬＰ ＭＥ") is not None


@given(st.text())
def test_detect_never_raises(text: str) -> None:
    sign = DETECTOR.detect(text)
    assert sign is None or sign.kind in {"danger", "self_harm"}


def test_rules_are_data() -> None:
    custom = Detector({"rules": [{"id": "x", "kind": "danger", "patterns": ["\\bpineapple\\b"]}]})
    assert custom.detect("PINEAPPLE!") is not None and custom.detect("apple") is None
