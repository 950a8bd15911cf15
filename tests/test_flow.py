"""The bundled flow is well formed, every prompt has words, and every SMS fits two segments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.engine import Reply
from bot.flow import FlowError, bundled_flow, parse_flow
from bot.labels import MESSAGES_DIR, load_labels
from bot.profile import bundled_profile
from bot.render import Renderer
from sms_gateway.segments import is_gsm7, non_gsm_chars, segment_count

FLOW = bundled_flow()
LABELS = load_labels("en")
TEMPLATES = sorted(p.stem for p in (MESSAGES_DIR / "en").glob("*.txt"))
LONGEST_ANSWERS: dict[str, Any] = {
    "name": "N" * 60,
    "contact_method": "email",
    "safe_times": ["weekday_daytime", "weekday_evening", "weekend", "any_time"],
    "hopes": ["conference", "letters", "shuttle", "recorded_message", "not_sure"],
}


def _every_reply() -> list[Reply]:
    """Every message the flow can send, with its options, at its longest."""
    invitations = [{"code": "K7P2", "when": "Wed 30 Dec 2026 at 10:00"}] * 3
    params = {
        "answers": LONGEST_ANSWERS,
        "reference": "RJ-ABC123",
        "max_length": 300,
        "attempts": 3,
        "accept_month": True,
        "optional": True,
        "code": "K7P2",
        "when": "Wed 30 Dec 2026 at 10:00",
        "venue": "V" * 80,
        "invitations": invitations,
    }
    replies = [Reply(key, params) for key in TEMPLATES if key != "labels"]
    for step in FLOW.steps.values():
        options = tuple(LABELS.options_for(step))
        replies.append(Reply(step.prompt, params, options, step.id))
        replies.append(Reply(f"reask_{step.type}", params, options, step.id))
    return replies


def test_every_prompt_and_reask_has_a_template() -> None:
    keys = {r.key for r in _every_reply()}
    missing = sorted(k for k in keys if k not in TEMPLATES)
    assert not missing


def test_every_option_has_its_own_label() -> None:
    unlabelled = [
        f"{s.id}.{o.value}"
        for s in FLOW.steps.values()
        for o in LABELS.options_for(s)
        if o.label == o.value
    ]
    assert not unlabelled


@pytest.mark.parametrize("reply", _every_reply(), ids=lambda r: f"{r.key}-{r.step}")
def test_sms_fits_two_gsm7_segments(reply: Reply) -> None:
    text = Renderer("sms", bundled_profile()).render(reply).text
    assert is_gsm7(text), f"forces UCS-2: {non_gsm_chars(text)}"
    assert segment_count(text) <= 2, f"{segment_count(text)} segments: {text!r}"


def test_telegram_rendering_gives_buttons_not_numbers() -> None:
    step = FLOW.step("safe_now")
    reply = Reply(step.prompt, {}, tuple(LABELS.options_for(step)), step.id)
    rendered = Renderer("telegram", bundled_profile()).render(reply)
    assert rendered.buttons == (("Yes", "1"), ("No", "2"))
    assert "1 Yes" not in rendered.text


def test_a_dangling_target_is_refused() -> None:
    document = {
        "id": "bad",
        "version": 1,
        "start": "a",
        "steps": {"a": {"type": "yesno", "next": "nowhere"}},
    }
    with pytest.raises(FlowError, match="nowhere"):
        parse_flow(document)


def test_an_unknown_answer_type_is_refused() -> None:
    document = {
        "id": "bad",
        "version": 1,
        "start": "a",
        "steps": {"a": {"type": "essay", "next": "finish"}},
    }
    with pytest.raises(FlowError, match="essay"):
        parse_flow(document)


def test_no_area_specific_fact_in_python() -> None:
    root = Path(__file__).resolve().parents[1]
    packages = ("bot", "webhooks", "sms_gateway", "case_store")
    code = "".join(p.read_text() for name in packages for p in (root / name).rglob("*.py"))
    for fact in ("Cambridgeshire", "0800 781 6818", "Peterborough"):
        assert fact not in code
