"""Prints the safeguarding detector's recall and false alarms at the end of the test run."""

from __future__ import annotations

from typing import Any

RESULTS: dict[str, tuple[int, int]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: recall over risky messages, false alarms over ordinary ones."""
    if not RESULTS:
        return
    found, risky = RESULTS["recall"]
    alarms, ordinary = RESULTS["false_alarms"]
    terminalreporter.write_line(
        f"safeguarding: recall {found / risky:.3f} ({found}/{risky}), "
        f"false alarms {alarms / ordinary:.3f} ({alarms}/{ordinary})"
    )
