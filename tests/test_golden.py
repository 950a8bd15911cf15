"""Each golden transcript replays exactly; run pytest --update-golden to rewrite them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden_transcripts import GOLDEN_DIR, load, play, save
from webhooks.runtime import Runtime

SCENARIOS = sorted(GOLDEN_DIR.glob("*.yaml"))


def test_there_are_transcripts_for_every_required_scenario() -> None:
    """The scenarios the brief names all have a transcript."""
    names = {path.stem for path in SCENARIOS}
    required = {
        "happy_path_sms",
        "happy_path_telegram",
        "not_safe_to_text",
        "in_danger_at_start",
        "danger_midway",
        "under_18",
        "domestic_abuse",
        "stop_then_start",
        "back",
        "invalid_answers",
        "delete",
    }
    assert required <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_transcript(path: Path, runtime: Runtime, request: pytest.FixtureRequest) -> None:
    """The conversation goes exactly as its transcript says."""
    scenario = load(path)
    turns = play(runtime.conversations, scenario)
    if request.config.getoption("--update-golden"):
        save(scenario, turns)
        return
    for expected, actual in zip(scenario.turns, turns, strict=True):
        assert actual["get"] == expected["get"], f"after sending {expected['send']!r}"
