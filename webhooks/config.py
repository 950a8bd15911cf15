"""Configuration from the environment (and a .env file), with safe embedded defaults."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv
from limits import parse_many

from case_store.crypto import new_fernet_key

log = logging.getLogger(__name__)
DEFAULT_PORT = 8000
# A person typing, or tapping buttons, answers a question every few seconds at most; a
# flood (a script, an auto-responder loop) is faster and does not stop.
MAX_PROXIES = 5
DEFAULT_SENDER_LIMIT = "30 per minute;300 per day"
DEFAULT_API_LIMIT = "300 per minute"


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    instance_path: Path
    database_url: str
    public_base_url: str
    secret_key: str
    encryption_keys: tuple[str, ...]
    service_profile: str | None = None
    env: str = "development"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str | None = None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "rj-frontdoor@localhost"
    coordinator_emails: tuple[str, ...] = field(default=())
    max_body_bytes: int = 64 * 1024
    redis_url: str | None = None
    rate_limit_sender: str = DEFAULT_SENDER_LIMIT
    rate_limit_api: str = DEFAULT_API_LIMIT
    dashboard_idle_minutes: int = 30
    quick_exit_url: str = "https://www.bbc.co.uk/weather"
    trusted_proxies: int = 0

    @property
    def twilio_enabled(self) -> bool:
        """SMS is on only when every Twilio secret is configured."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def telegram_enabled(self) -> bool:
        """Telegram is on only with a bot token and a webhook secret."""
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def production(self) -> bool:
        """True when RJ_ENV=production."""
        return self.env == "production"

    @property
    def outbox_path(self) -> Path:
        """Where emails are written as .eml files when no SMTP host is set."""
        return self.instance_path / "mail"


def _flag(value: str | None) -> bool:
    """An environment flag: 1, true, yes or on."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list without blanks."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _rate(value: str | None, default: str) -> str:
    """A Flask-Limiter rule such as "30 per minute;300 per day", checked at start-up."""
    rule = (value or "").strip() or default
    try:
        parse_many(rule)
    except ValueError as exc:
        raise ValueError(f"not a rate limit: {rule!r} (e.g. '30 per minute;300 per day')") from exc
    return rule


def _generated(instance: Path, name: str, make: str) -> str:
    """A secret kept in the instance folder, made once with a warning."""
    path = instance / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    log.warning("%s is not set: generated one into %s; set it in production", name, path)
    path.write_text(make, encoding="utf-8")
    path.chmod(0o600)
    return make


def load_settings(environ: Mapping[str, str] | None = None, port: int = DEFAULT_PORT) -> Settings:
    """Read settings from `environ` (default: the process environment after .env)."""
    if environ is None:
        load_dotenv(Path.cwd() / ".env")
        environ = os.environ
    env = dict(environ)
    instance = Path(env.get("RJ_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    return Settings(
        instance_path=instance,
        database_url=env.get("RJ_DATABASE_URL") or f"sqlite:///{instance / 'rj-frontdoor.db'}",
        public_base_url=(env.get("RJ_PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        secret_key=env.get("RJ_SECRET_KEY")
        or _generated(instance, "RJ_SECRET_KEY", secrets.token_urlsafe(48)),
        encryption_keys=_list(env.get("RJ_ENCRYPTION_KEYS"))
        or (_generated(instance, "RJ_ENCRYPTION_KEYS", new_fernet_key()),),
        service_profile=env.get("RJ_SERVICE_PROFILE") or None,
        env=env.get("RJ_ENV", "development"),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
        telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
        telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        smtp_host=env.get("RJ_SMTP_HOST") or None,
        smtp_port=int(env.get("RJ_SMTP_PORT") or 25),
        smtp_user=env.get("RJ_SMTP_USER") or None,
        smtp_password=env.get("RJ_SMTP_PASSWORD") or None,
        smtp_starttls=_flag(env.get("RJ_SMTP_STARTTLS")),
        mail_from=env.get("RJ_MAIL_FROM") or "rj-frontdoor@localhost",
        coordinator_emails=_list(env.get("RJ_COORDINATOR_EMAILS")),
        redis_url=env.get("RJ_REDIS_URL") or None,
        rate_limit_sender=_rate(env.get("RJ_RATE_LIMIT_SENDER"), DEFAULT_SENDER_LIMIT),
        rate_limit_api=_rate(env.get("RJ_RATE_LIMIT_API"), DEFAULT_API_LIMIT),
        dashboard_idle_minutes=int(env.get("RJ_DASHBOARD_IDLE_MINUTES") or 30),
        quick_exit_url=env.get("RJ_QUICK_EXIT_URL") or "https://www.bbc.co.uk/weather",
        trusted_proxies=_proxies(env.get("RJ_TRUSTED_PROXIES")),
    )


def _proxies(value: str | None) -> int:
    """How many reverse proxies sit in front (0 to 5); anything else is a clear error."""
    if not value:
        return 0
    if not value.isdigit() or int(value) > MAX_PROXIES:
        raise ValueError(f"RJ_TRUSTED_PROXIES must be a number from 0 to {MAX_PROXIES}.")
    return int(value)
