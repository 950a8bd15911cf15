"""Command line: run the phases, print the table, write the JSON result file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report
from bench.databases import Databases
from bench.phases import Bench, Options, growth_phase, reference_phase, service_phases
from bench.scripts import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The options."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Drive whole self-referral conversations through `rj-frontdoor serve` "
        "(SMS and Telegram webhooks) and a minimal reference endpoint; report throughput, "
        "latency, errors and CPU per message, then check every conversation and referral.",
    )
    p.add_argument("--quick", action="store_true", help="short phases (the run takes < 1 min)")
    p.add_argument("--duration", type=float, help="seconds of load per phase (default 30)")
    p.add_argument("--warmup", type=float, help="seconds excluded from the figures (default 3)")
    p.add_argument("-c", "--connections", type=int, default=16, help="concurrent connections")
    p.add_argument("--threads", type=int, help="waitress threads, both servers (default: serve's)")
    p.add_argument("--processes", type=int, help="server processes (default 1 SQLite, 2 PG)")
    p.add_argument(
        "--db-url",
        help="a PostgreSQL server URL, e.g. postgresql://postgres@"
        "127.0.0.1:5432/postgres: throwaway databases are made there and dropped",
    )
    p.add_argument("--channels", default="sms,telegram", help="comma-separated: sms, telegram")
    p.add_argument("--no-reference", action="store_true", help="skip the reference endpoint")
    p.add_argument(
        "--paced",
        type=float,
        default=0.5,
        help="then SMS paced at this fraction of the flat-out rate, for latency "
        "below saturation (0: skip)",
    )
    p.add_argument("--no-growth", action="store_true", help="skip the seeded-database phase")
    p.add_argument("--seed-messages", type=int, help="growth: messages (default 1,000,000)")
    p.add_argument("--seed-referrals", type=int, help="growth: referrals (default 100,000)")
    p.add_argument("--api-requests", type=int, help="timed API requests per query (default 100)")
    p.add_argument("--serve-arg", action="append", default=[], help="extra `serve` argument")
    p.add_argument("--output", type=Path, help="JSON result file (default bench/results/...)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases)")
    return p.parse_args(argv)  # fmt: skip


def options_from(args: argparse.Namespace, postgres: bool) -> Options:
    """Defaults, shortened by --quick."""
    quick = args.quick
    return Options(
        duration=args.duration or (5.0 if quick else 30.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
        connections=args.connections,
        threads=args.threads,
        processes=args.processes or (2 if postgres else 1),
        channels=[c.strip() for c in args.channels.split(",") if c.strip()],
        reference=not args.no_reference,
        growth=not args.no_growth,
        seed_messages=args.seed_messages or (50_000 if quick else 1_000_000),
        seed_referrals=args.seed_referrals or (5_000 if quick else 100_000),
        api_requests=args.api_requests or (20 if quick else 100),
        paced_fraction=args.paced,
        serve_args=args.serve_arg,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when any check failed or any request erred."""
    from tests.stubs.telegram_api import TelegramStub
    from tests.stubs.twilio_api import TwilioStub

    args = parse(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rj-bench-"))
    databases = Databases(args.db_url, workdir)
    options = options_from(args, databases.kind == "postgresql")
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                              "machine": _machine(), "database": databases.kind,
                              "options": vars(options)}  # fmt: skip
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as twilio, TelegramStub(TELEGRAM_TOKEN) as telegram:
        stubs = {"twilio": twilio.base_url, "telegram": telegram.base_url}
        for stub in (twilio, telegram):  # a stopped server resets its keep-alive connections
            stub.server.httpd.report_errors = False
        bench = Bench(options, workdir, databases, stubs)
        try:
            result["service"] = service_phases(bench)
            if options.reference and "sms" in options.channels:
                result["reference"] = reference_phase(bench)
            if options.growth:
                result["growth"] = growth_phase(bench)
        finally:
            databases.drop_all()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    result["summary"] = report.summary(result)
    print(report.table(result))
    output = (
        args.output or RESULTS / f"bench-{databases.kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {output}" + (f"; work folder {workdir}" if args.keep else ""))
    if _full_run(args):
        latest = RESULTS / f"latest-{databases.kind}.json"
        latest.write_text(output.read_text(encoding="utf-8"), encoding="utf-8")
        print(f"and to {latest} (a full run)")
    return 0 if result["summary"]["all_checks_ok"] else 1


def _full_run(args: argparse.Namespace) -> bool:
    """Every phase at the default sizes: the run the README quotes."""
    changed = (args.quick, args.duration, args.no_reference, args.no_growth, args.seed_messages,
               args.seed_referrals, args.output, args.channels != "sms,telegram")  # fmt: skip
    return not any(changed)


def _machine() -> dict[str, Any]:
    """Where the figures come from."""
    load1, load5, _ = os.getloadavg()
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_at_start": [load1, load5]}  # fmt: skip
