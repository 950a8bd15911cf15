"""Safe times to contact a victim, from the answers they gave (see DOMAIN.md: safe contact).

The bands are the service's reading of the choices offered in the flow:
weekday daytime is Monday to Friday 9am to 5pm, weekday evenings 5pm to 9pm, weekends
Saturday and Sunday 9am to 9pm, in the service's time zone. No answer means no limit
was asked for, so any time is allowed (agency referrals may not carry safe times).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

BANDS: dict[str, tuple[set[int], time, time]] = {
    "weekday_daytime": ({0, 1, 2, 3, 4}, time(9), time(17)),
    "weekday_evening": ({0, 1, 2, 3, 4}, time(17), time(21)),
    "weekend": ({5, 6}, time(9), time(21)),
}


def _chosen(safe_times: Iterable[str] | str | None) -> list[str]:
    """The answer as a list of band names."""
    if not safe_times:
        return []
    if isinstance(safe_times, str):
        return [part.strip() for part in safe_times.split(",") if part.strip()]
    return [str(part) for part in safe_times]


def is_safe_time(safe_times: Iterable[str] | str | None, moment: datetime, zone: str) -> bool:
    """True when `moment` falls in one of the person's safe times."""
    bands = _chosen(safe_times)
    if not bands or "any_time" in bands:
        return True
    local = moment.astimezone(ZoneInfo(zone))
    for band in bands:
        days, start, end = BANDS.get(band, (set(), time(0), time(0)))
        if local.weekday() in days and start <= local.time() < end:
            return True
    return False


def describe(safe_times: Iterable[str] | str | None) -> str:
    """The safe times in words, for the co-ordinator."""
    words = {
        "weekday_daytime": "weekdays 9am to 5pm",
        "weekday_evening": "weekday evenings 5pm to 9pm",
        "weekend": "weekends 9am to 9pm",
        "any_time": "any time",
    }
    bands = _chosen(safe_times)
    return ", ".join(words.get(band, band) for band in bands) if bands else "not given"
