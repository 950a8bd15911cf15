"""The dashboard's blueprint, shared by its view modules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint

import templates

TEMPLATES = Path(templates.__file__).parent

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/coordinator",
    template_folder=str(TEMPLATES),
    static_folder=str(TEMPLATES / "static"),
    static_url_path="/static",
)


@bp.app_template_filter("local")
def local_time(moment: datetime | None) -> str:
    """A time in the service's time zone, the way people write it: "Mon 23 Nov 2026, 14:05"."""
    if moment is None:
        return ""
    from webhooks.runtime import current_runtime

    zone = ZoneInfo(current_runtime().profile.timezone)
    return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M")
