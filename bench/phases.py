"""The phases of a run: our service (SMS, Telegram), the reference, and growth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import api_timing, checks, seed
from bench.databases import Databases
from bench.load import LoadResult, People, Plan
from bench.measure import run_phase
from bench.scripts import DRAMA_NUMBERS, SmsPeople, TelegramPeople
from bench.servers import Process, Secrets, free_port, service_env, start_reference, start_service


@dataclass
class Options:
    """What the command line asked for."""

    duration: float
    warmup: float
    connections: int
    threads: int | None
    processes: int
    channels: list[str]
    reference: bool
    growth: bool
    seed_messages: int
    seed_referrals: int
    api_requests: int
    paced_fraction: float = 0.5
    serve_args: list[str] = field(default_factory=list)


@dataclass
class Bench:
    """A run's shared parts: options, folders, databases, stub URLs and keys."""

    options: Options
    workdir: Path
    databases: Databases
    stubs: dict[str, str]
    keys: Secrets = field(default_factory=Secrets.fresh)
    log: list[str] = field(default_factory=list)
    people_used: dict[tuple[str, str], int] = field(default_factory=dict)  # (url, channel)

    def say(self, text: str) -> None:
        """Progress on stdout."""
        print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)

    @contextmanager
    def servers(self, label: str, url: str, reference: bool = False) -> Iterator[list[Process]]:
        """`processes` servers on one database; the first runs the outbox worker."""
        ports = [free_port() for _ in range(self.options.processes)]
        folder = self.workdir / label
        folder.mkdir(parents=True, exist_ok=True)
        env = service_env(folder / "instance", url, self.keys, self.stubs, ports[0])
        started: list[Process] = []
        try:
            for n, port in enumerate(ports):
                if reference:
                    started.append(start_reference(env, folder, port, self.options.threads))
                else:
                    started.append(start_service(env, folder, port, self.options.threads,
                                                 n == 0, self.options.serve_args))  # fmt: skip
                started[-1].wait_ready()  # one at a time: the first creates the tables
            yield started
        finally:
            for process in started:
                process.stop()

    def load(
        self,
        people: People,
        servers: list[Process],
        max_people: int,
        rate: float | None = None,
        first: int = 1,
    ) -> tuple[dict[str, Any], LoadResult]:
        """Run one load phase (flat out, or `rate` messages/s in all) and summarise it."""
        targets = [("127.0.0.1", p.port) for p in servers]
        o = self.options
        plan = Plan(targets, o.connections, o.duration, max_people, rate=rate, first_person=first)
        return run_phase(people, servers, plan, o.warmup)


def channel_phase(
    bench: Bench, servers: list[Process], url: str, channel: str, rate: float | None = None
) -> dict[str, Any]:
    """Whole conversations over one channel (flat out, or paced at `rate`), then the checks."""
    since = datetime.now(UTC)
    people: People
    if channel == "sms":
        people, most = SmsPeople(servers[0].base_url), DRAMA_NUMBERS
    else:
        people, most = TelegramPeople(), 1_000_000
    pace = f", paced at {rate:.0f} messages/s" if rate else ""
    bench.say(f"{channel}: {bench.options.connections} connections, "
              f"{bench.options.duration:.0f} s{pace}")  # fmt: skip
    first = bench.people_used.get((url, channel), 0) + 1
    summary, result = bench.load(people, servers, most, rate, first)
    bench.people_used[(url, channel)] = max([first - 1, *result.completed, *result.broken])
    summary["offered_rate"] = round(rate, 1) if rate else None
    addresses = [people.address(n) for n in result.completed]
    summary["checks"] = checks.check_conversations(url, bench.keys, channel, addresses, since)
    summary["checks"]["ok"] &= summary["checks"]["inbound_messages_stored"] == len(
        [s for s in result.samples if s.error is None]
    )
    if channel == "telegram":
        summary["checks"]["outbox_drain_seconds"] = _drain(url, timeout=bench.options.duration / 2)
    return summary


def _drain(url: str, timeout: float) -> float | None:
    """Seconds until the outbox is empty (None if it is not within `timeout`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if checks.outbox_pending(url) == 0:
            return round(time.perf_counter() - started, 1)
        time.sleep(0.5)
    return None


def service_phases(bench: Bench) -> dict[str, Any]:
    """Our service on an empty database: each channel, then the API list."""
    url, results = bench.databases.fresh("service"), {}
    with bench.servers("service", url) as servers:
        for channel in bench.options.channels:
            results[channel] = channel_phase(bench, servers, url, channel)
            if channel == "sms" and bench.options.paced_fraction > 0:
                # before Telegram, whose paced outbox keeps the worker busy for minutes
                rate = bench.options.paced_fraction * results["sms"]["messages_per_second"]
                results["sms_paced"] = channel_phase(bench, servers, url, "sms", rate)
        results["api"] = _reads(bench, servers[0], "service")
    return results


def reference_phase(bench: Bench) -> dict[str, Any]:
    """The reference endpoint under the same SMS load."""
    url = bench.databases.fresh("reference")
    with bench.servers("reference", url, reference=True) as servers:
        bench.say("reference: the same SMS load")
        people = SmsPeople(servers[0].base_url, check_replies=False)
        summary, result = bench.load(people, servers, DRAMA_NUMBERS)
    ok_requests = len([s for s in result.samples if s.error is None])
    rows = checks.count_reference_rows(url)
    summary["checks"] = {"rows": rows, "ok": rows == ok_requests}
    return summary


def growth_phase(bench: Bench) -> dict[str, Any]:
    """Seed history, then the same SMS load and the reads at that size."""
    url, options = bench.databases.fresh("growth"), bench.options
    bench.say(f"growth: seeding {options.seed_messages:,} messages, "
              f"{options.seed_referrals:,} referrals")  # fmt: skip
    seeded = seed.seed(url, bench.keys, options.seed_messages, options.seed_referrals)
    bench.say(f"growth: seeded in {seeded['seconds']} s")
    with bench.servers("growth", url) as servers:
        results: dict[str, Any] = {"seeded": seeded}
        results["sms"] = channel_phase(bench, servers, url, "sms")
        results["api"] = _reads(bench, servers[0], "growth")
    return results


def _reads(bench: Bench, server: Process, label: str) -> dict[str, Any]:
    """The API list and the co-ordinator page, timed one request at a time."""
    bench.say(f"{label}: timing GET /api/v1/referrals and /coordinator/")
    folder, n = bench.workdir / label, bench.options.api_requests
    token = api_timing.make_token(server.env, folder)
    return {
        "referrals_list": api_timing.time_api(server.base_url, token, n),
        "coordinator_queue": api_timing.time_coordinator(server.base_url, server.env, folder, n),
    }
