"""The result as a table for people and a summary of ratios and targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PHASES = (
    ("service", "sms", "SMS, ours"),
    ("service", "sms_paced", "SMS, ours, paced"),
    ("service", "telegram", "Telegram, ours"),
    ("reference", None, "SMS, reference"),
    ("growth", "sms", "SMS, ours, seeded"),
)


def _phase(result: dict[str, Any], group: str, channel: str | None) -> dict[str, Any] | None:
    """One phase's figures, if it ran."""
    found = result.get(group)
    return found if channel is None or found is None else found.get(channel)


def _ratio(top: dict[str, Any] | None, bottom: dict[str, Any] | None) -> float | None:
    """messages/s of top over bottom."""
    if not top or not bottom or not bottom["messages_per_second"]:
        return None
    return round(top["messages_per_second"] / bottom["messages_per_second"], 2)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Ratios, the issue's targets, and whether every check passed."""
    sms, ref = _phase(result, "service", "sms"), _phase(result, "reference", None)
    tg, grown = _phase(result, "service", "telegram"), _phase(result, "growth", "sms")
    ratios = {"sms_over_reference": _ratio(sms, ref), "telegram_over_sms": _ratio(tg, sms),
              "seeded_over_empty": _ratio(grown, sms)}  # fmt: skip
    targets = []
    if sms:
        targets += [("SMS at least 1.5x the reference", ratios["sms_over_reference"], 1.5, ">="),
                    ("SMS p99 under 50 ms", sms["latency_ms"]["p99"], 50, "<"),
                    ("SMS zero errors", sms["errors"], 0, "==")]  # fmt: skip
    if tg and sms:
        targets.append(("Telegram within 20% of SMS", ratios["telegram_over_sms"], 0.8, ">="))
    if grown:
        targets.append(("seeded within 10% of empty", ratios["seeded_over_empty"], 0.9, ">="))
        api = result["growth"]["api"]["referrals_list"]["first_page"]
        targets.append(("seeded API list p95 under 50 ms", api["p95_ms"], 50, "<"))
        queue = result["growth"]["api"]["coordinator_queue"]
        if "p95_ms" in queue:
            targets.append(("seeded queue page p95 under 50 ms", queue["p95_ms"], 50, "<"))
    phases = [p for g, c, _ in PHASES if (p := _phase(result, g, c))]
    return {
        "ratios": ratios,
        "targets": [
            {"target": t, "value": v, "met": _met(v, limit, op)} for t, v, limit, op in targets
        ],
        "all_checks_ok": all(p["checks"]["ok"] and p["errors"] == 0 for p in phases),
    }


def _met(value: float | None, limit: float, op: str) -> bool | None:
    """Whether `value op limit` holds (None when not measured)."""
    if value is None:
        return None
    return {">=": value >= limit, "<": value < limit, "==": value == limit}[op]


def table(result: dict[str, Any]) -> str:
    """The figures as aligned text."""
    head = ("phase", "msg/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "CPU ms/msg",
            "conv.", "checks", "busy/other cores")  # fmt: skip
    rows: list[tuple[str, ...]] = [head]
    for group, channel, label in PHASES:
        p = _phase(result, group, channel)
        if p:
            lat = p["latency_ms"]
            rows.append((label, f"{p['messages_per_second']:.1f}", *(f"{lat[k]:.1f}" for k in
                         ("p50", "p95", "p99", "max")), str(p["errors"]),
                         f"{p['server_cpu_ms_per_message'] or 0:.2f}",
                         str(p["conversations_completed"]), "ok" if p["checks"]["ok"] else "FAIL",
                         f"{p['machine_busy_cores']}/{p['other_load_cores']}"))  # fmt: skip
    lines = [f"database: {result['database']}; {result['options']['connections']} connections; "
             f"{result['options']['processes']} server process(es)", _align(rows), ""]  # fmt: skip
    lines += _reads(result)
    s = result["summary"]
    lines.append("ratios: " + ", ".join(f"{k} {v}" for k, v in s["ratios"].items()))
    for t in s["targets"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        lines.append(f"  target: {t['target']}: {t['value']} ({mark})")
    lines.append("all checks ok" if s["all_checks_ok"] else "SOME CHECKS FAILED (see the JSON)")
    return "\n".join(lines)


def _reads(result: dict[str, Any]) -> list[str]:
    """The API and dashboard timings."""
    rows: list[tuple[str, ...]] = [("read (sequential)", "database", "p50 ms", "p95 ms", "errors")]
    for group, label in (("service", "after the load"), ("growth", "seeded")):
        api = (result.get(group) or {}).get("api")
        if not api:
            continue
        for name, figures in api["referrals_list"].items():
            if isinstance(figures, dict):
                rows.append((f"GET /api/v1/referrals {name}", label, str(figures["p50_ms"]),
                             str(figures["p95_ms"]), str(figures["errors"])))  # fmt: skip
        queue = api["coordinator_queue"]
        rows.append(("GET /coordinator/", label, str(queue.get("p50_ms", queue.get("skipped"))),
                     str(queue.get("p95_ms", "")), str(queue.get("errors", ""))))  # fmt: skip
    return [_align(rows), ""] if len(rows) > 1 else []


def _align(rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
