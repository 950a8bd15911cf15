"""Prints the safeguarding detector's recall and false alarms at the end of the test run.

Under pytest-xdist the tests run in worker processes: each worker hands what it measured
to the controller (`workeroutput`), which prints the line.
"""

from __future__ import annotations

from typing import Any

import pytest

RESULTS: dict[str, tuple[int, int]] = {}
_KEY = "safeguarding_summary"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker: send this worker's figures to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_KEY] = {name: list(pair) for name, pair in RESULTS.items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the xdist controller: gather a finished worker's figures."""
    for name, (found, total) in getattr(node, "workeroutput", {}).get(_KEY, {}).items():
        RESULTS[name] = (found, total)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: recall over risky messages, false alarms over ordinary ones."""
    parts = []
    if "recall" in RESULTS:
        found, risky = RESULTS["recall"]
        parts.append(f"recall {found / risky:.3f} ({found}/{risky})")
    if "false_alarms" in RESULTS:
        alarms, ordinary = RESULTS["false_alarms"]
        parts.append(f"false alarms {alarms / ordinary:.3f} ({alarms}/{ordinary})")
    if parts:
        terminalreporter.write_line("safeguarding: " + ", ".join(parts))
