"""One load phase: drive the load, read CPU over the steady window, summarise."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult, People, Plan, drive, percentile
from bench.servers import Process


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuWindow:
    """CPU readings at the start and end of the steady window."""

    servers: list[Process]
    wall: float = 0.0
    server: float = 0.0
    client: float = 0.0
    machine: float = 0.0

    def read(self) -> tuple[float, float, float, float]:
        """(wall, servers' CPU, this process's CPU, machine busy)."""
        return (
            time.perf_counter(),
            sum(p.cpu_seconds() for p in self.servers),
            time.process_time(),
            machine_busy_seconds(),
        )

    def watch(self, start_at: float, end_at: float) -> threading.Thread:
        """Read at `start_at` and `end_at` (perf_counter times) in a background thread."""

        def run() -> None:
            time.sleep(max(0.0, start_at - time.perf_counter()))
            first = self.read()
            time.sleep(max(0.0, end_at - time.perf_counter()))
            last = self.read()
            self.wall, self.server, self.client, self.machine = (
                b - a for a, b in zip(first, last, strict=True)
            )

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def run_phase(
    people: People, servers: list[Process], plan: Plan, warmup: float
) -> tuple[dict[str, Any], LoadResult]:
    """Drive `plan` and summarise the steady window [start + warmup, start + duration]."""
    start = time.perf_counter()
    window = (start + warmup, start + plan.duration)
    cpu = CpuWindow(servers)
    watcher = cpu.watch(*window)
    result = drive(people, plan)
    watcher.join()
    return summarise(result, window, cpu, len(people.turns)), result


def summarise(
    result: LoadResult, window: tuple[float, float], cpu: CpuWindow, turns: int
) -> dict[str, Any]:
    """Throughput, latency, errors and CPU of one phase."""
    start, end = window
    done = [s for s in result.samples if start <= s.ended < end]
    latencies = sorted(s.ended - s.started for s in result.samples if start <= s.started < end)
    errors = result.errors(float("-inf"), float("inf"))
    ms = [round(1000 * percentile(latencies, f), 2) for f in (0.5, 0.95, 0.99, 1.0)]
    return {
        "messages_per_second": round(len(done) / (end - start), 1),
        "latency_ms": dict(zip(("p50", "p95", "p99", "max"), ms, strict=True)),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "requests_total": len(result.samples),
        "requests_in_window": len(done),
        "window_seconds": round(end - start, 2),
        "conversations_completed": len(result.completed),
        "conversations_broken": len(result.broken),
        "turns_per_conversation": turns,
        "person_pool_exhausted": result.exhausted,
        "server_cpu_seconds": round(cpu.server, 2),
        "server_cpu_ms_per_message": round(1000 * cpu.server / len(done), 3) if done else None,
        "load_generator_cpu_seconds": round(cpu.client, 2),
        "machine_busy_cores": round(cpu.machine / cpu.wall, 2) if cpu.wall else None,
        "other_load_cores": round((cpu.machine - cpu.server - cpu.client) / cpu.wall, 2)
        if cpu.wall
        else None,
    }
