"""The service profile: the area-specific facts a deployer sets without changing code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BUNDLED_PROFILE = Path(__file__).with_name("profiles") / "cambridgeshire.toml"


@dataclass(frozen=True)
class Profile:
    """A loaded service profile; `data` keeps the whole document for templates."""

    data: dict[str, Any] = field(repr=False)
    path: Path

    @property
    def service(self) -> dict[str, Any]:
        """The [service] table."""
        return dict(self.data["service"])

    @property
    def notice_version(self) -> str:
        """Version of the privacy notice shown to people."""
        return str(self.data["privacy"]["notice_version"])

    @property
    def retention_days(self) -> dict[str, int]:
        """Retention periods in days, by kind of record."""
        return {k: int(v) for k, v in self.data.get("retention", {}).items()}

    @property
    def exit_word(self) -> str:
        """The word that ends a chat at once with a harmless-looking reply."""
        return str(self.service.get("exit_word", "BYE")).upper()

    @property
    def timezone(self) -> str:
        """The service's local time zone name."""
        return str(self.service.get("timezone", "Europe/London"))

    @property
    def zone(self) -> ZoneInfo:
        """The service's local time zone: whose days a date given by its staff means."""
        return ZoneInfo(self.timezone)

    def template_context(self) -> dict[str, Any]:
        """What every template may use: the profile's tables by name."""
        return dict(self.data)


REQUIRED_TABLES = ("service", "privacy", "retention", "safeguarding", "signposts")


def load_profile(path: str | Path | None = None) -> Profile:
    """Read and check a service profile (TOML); None means the bundled default."""
    chosen = Path(path) if path else BUNDLED_PROFILE
    with chosen.open("rb") as handle:
        data = tomllib.load(handle)
    missing = [name for name in REQUIRED_TABLES if name not in data]
    if missing:
        raise ValueError(f"service profile {chosen} lacks tables: {', '.join(missing)}")
    return Profile(data=data, path=chosen)


@cache
def bundled_profile() -> Profile:
    """The bundled default profile, loaded once."""
    return load_profile(None)
