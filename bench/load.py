"""The load generator: C connections, each playing whole conversations back to back."""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bench.scripts import Counter, Request, Turn


class People(Protocol):
    """Who sends what (see bench.scripts)."""

    channel: str
    turns: list[Turn]

    def address(self, person: int) -> str:
        """The channel address of person n."""

    def request(self, person: int, turn: Turn) -> Request:
        """One ready request."""


@dataclass
class Sample:
    """One request: when it started and ended (perf_counter) and whether it was right."""

    started: float
    ended: float
    error: str | None


@dataclass
class LoadResult:
    """Everything the connections recorded."""

    samples: list[Sample] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)  # people whose every turn succeeded
    broken: list[int] = field(default_factory=list)  # people with at least one failed turn
    exhausted: bool = False

    def errors(self, start: float, end: float) -> Tally[str]:
        """Errors of requests started in [start, end)."""
        return Tally(s.error for s in self.samples if s.error and start <= s.started < end)


@dataclass
class Plan:
    """How to drive the load."""

    targets: Sequence[tuple[str, int]]  # (host, port); connection i uses targets[i % n]
    connections: int
    duration: float  # seconds after which no new conversation starts
    max_people: int
    timeout: float = 30.0
    rate: float | None = None  # messages/s offered in all; None: each connection flat out
    first_person: int = 1  # people already used on this database are not reused

    def interval(self) -> float | None:
        """Seconds between one connection's sends when paced."""
        return self.connections / self.rate if self.rate else None


def drive(people: People, plan: Plan) -> LoadResult:
    """Run the plan; returns after every started conversation has finished."""
    result, lock = LoadResult(), threading.Lock()
    numbers, deadline = Counter(plan.first_person), time.perf_counter() + plan.duration
    threads = [
        threading.Thread(
            target=_connection,
            args=(people, plan, plan.targets[i % len(plan.targets)], numbers, deadline, result,
                  lock, i / plan.connections),
            daemon=True,
        )
        for i in range(plan.connections)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def _connection(
    people: People,
    plan: Plan,
    target: tuple[str, int],
    numbers: Counter,
    deadline: float,
    result: LoadResult,
    lock: threading.Lock,
    offset: float,
) -> None:
    """One keep-alive connection playing conversations until the deadline."""
    conn = http.client.HTTPConnection(*target, timeout=plan.timeout)
    pacer = _Pacer(plan.interval(), offset)
    while time.perf_counter() < deadline:
        person = numbers.next()
        if person > plan.max_people:
            result.exhausted = True
            break
        requests = (people.request(person, turn) for turn in people.turns)
        samples = [_send(conn, request, pacer.wait()) for request in requests]
        ok = all(s.error is None for s in samples)
        with lock:
            result.samples.extend(samples)
            (result.completed if ok else result.broken).append(person)
    conn.close()


class _Pacer:
    """Open-loop pacing: send at fixed times, whether or not the last answer was slow."""

    def __init__(self, interval: float | None, offset: float) -> None:
        """Every `interval` seconds, starting `offset` intervals in (None: no pacing)."""
        self.interval = interval
        self.next_at = time.perf_counter() + (interval or 0.0) * offset

    def wait(self) -> float | None:
        """Sleep until the next slot; its time, counted as the start (no coordinated omission)."""
        if self.interval is None:
            return None
        slot = self.next_at
        time.sleep(max(0.0, slot - time.perf_counter()))
        self.next_at = slot + self.interval
        return slot


def _send(conn: http.client.HTTPConnection, req: Request, slot: float | None) -> Sample:
    """POST one request and judge the answer; latency counts from `slot` when paced."""
    now = time.perf_counter()
    started = now if slot is None else min(slot, now)
    try:
        conn.request("POST", req.path, req.body, req.headers)
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # reconnects on the next request
        return Sample(started, time.perf_counter(), type(exc).__name__)
    ended = time.perf_counter()
    return Sample(started, ended, _judge(response.status, body, req.expect_messages))


def _judge(status: int, body: bytes, expect_messages: int | None) -> str | None:
    """None when the answer is right, else a short reason."""
    if status != 200:
        return f"HTTP {status}"
    if expect_messages is not None and body.count(b"<Message>") != expect_messages:
        return "wrong number of replies"
    return None


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
