"""The rate limiter's in-process storage: same counts as limits' own, no thread per hit."""

from __future__ import annotations

import threading
import time

import limits.storage.memory
import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from webhooks.limiter_storage import SweptMemoryStorage


@pytest.fixture
def timers_started(monkeypatch: pytest.MonkeyPatch) -> list[threading.Timer]:
    """Every expiry timer limits' memory storage starts from now on."""
    started: list[threading.Timer] = []

    class CountingTimer(threading.Timer):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(limits.storage.memory.threading, "Timer", CountingTimer)
    return started


def _hits(storage: MemoryStorage, count: int) -> list[bool]:
    """`count` hits on one key against 3 a second; whether each was allowed."""
    limiter = MovingWindowRateLimiter(storage)
    rule = parse("3 per second")
    results = []
    for _ in range(count):
        results.append(limiter.hit(rule, "sender"))
        time.sleep(0.015)  # longer than limits' 10 ms timer, so it would be restarted
    return results


def test_the_scheme_gives_our_storage() -> None:
    assert isinstance(storage_from_string("rj-memory://"), SweptMemoryStorage)


def test_hits_start_no_threads(timers_started: list[threading.Timer]) -> None:
    stock = MemoryStorage()
    timers_started.clear()
    _hits(stock, 5)
    assert len(timers_started) >= 2  # the probe sees limits' own per-hit timers

    ours = SweptMemoryStorage()
    timers_started.clear()
    _hits(ours, 5)
    assert timers_started == []


def test_counts_are_limits_own_and_old_entries_are_swept() -> None:
    storage = SweptMemoryStorage()
    assert _hits(storage, 4) == [True, True, True, False]
    time.sleep(1.05)  # the window has moved past every hit
    assert _hits(storage, 1) == [True]
    time.sleep(1.05)
    storage.sweep()
    assert storage.events == {}
