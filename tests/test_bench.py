"""The benchmark still runs end to end: every phase, its post-run checks, its result file.

A very short run (seconds per phase, a small seeded database). No speed is asserted here:
figures belong to bench/README.md, measured on purpose, not to a test on a shared machine.
What is asserted is what makes the figures worth reading: signed requests accepted,
conversations finished with one referral each, nothing counted twice, and no errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHORT_RUN = [
    "--quick", "--duration", "2", "--warmup", "0.5", "-c", "4", "--api-requests", "3",
    "--seed-messages", "3000", "--seed-referrals", "300",
]  # fmt: skip


def _db_args() -> list[str]:
    """The PostgreSQL server CI's second pass uses, else SQLite."""
    url = os.environ.get("RJ_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return []
    return ["--db-url", url.replace("postgresql+psycopg://", "postgresql://")]


def test_a_short_bench_run_passes_every_check(tmp_path: Path) -> None:
    output = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RJ_")}
    run = subprocess.run(
        [sys.executable, "-m", "bench", *SHORT_RUN, *_db_args(), "--output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(output.read_text(encoding="utf-8"))
    phases = [*result["service"].values(), result["reference"], *result["growth"].values()]
    loads = [phase for phase in phases if "messages_per_second" in phase]
    assert len(loads) == 5  # SMS, SMS paced, Telegram, reference, SMS on the seeded database
    for phase in loads:
        assert phase["errors"] == 0
        assert phase["requests_in_window"] > 0
        assert phase["checks"]["ok"] is True
    ours = [result["service"]["sms"], result["service"]["telegram"], result["growth"]["sms"]]
    for phase in ours:
        checks = phase["checks"]
        assert checks["finished_with_referral"] == checks["expected"] > 0
        assert checks["referrals_created"] == checks["distinct_referrals_linked"]
    assert result["summary"]["all_checks_ok"] is True
    assert {t["target"] for t in result["summary"]["targets"]} >= {
        "SMS at least 1.5x the reference",
        "Telegram within 20% of SMS",
        "seeded API list p95 under 50 ms",
    }
    assert "all checks ok" in run.stdout
