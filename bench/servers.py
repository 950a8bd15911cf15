"""Processes under test: `rj-frontdoor serve` and the reference app, with their stubs."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from bench import scripts

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_path() -> str:
    """The `rj-frontdoor` console script next to this Python."""
    return str(Path(sys.executable).with_name("rj-frontdoor"))


@dataclass(frozen=True)
class Secrets:
    """Keys shared by the service, the seeder and the checks."""

    secret_key: str
    encryption_key: str

    @classmethod
    def fresh(cls) -> Secrets:
        """New throwaway keys."""
        return cls(Fernet.generate_key().decode() + "-secret", Fernet.generate_key().decode())


def service_env(
    instance: Path, database_url: str, keys: Secrets, stubs: dict[str, str], port: int
) -> dict[str, str]:
    """The environment of a bench service: every secret set, every API a local stub."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RJ_", "TWILIO_", "TELEGRAM_"))}
    env.update(
        RJ_INSTANCE_PATH=str(instance),
        RJ_DATABASE_URL=database_url,
        RJ_SECRET_KEY=keys.secret_key,
        RJ_ENCRYPTION_KEYS=keys.encryption_key,
        RJ_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        RJ_COORDINATOR_EMAILS="coordinator@example.org",
        # The bench plays a person's whole conversation in about a second, which the
        # per-sender limit (30 a minute) rightly refuses; raised, the limits are still checked.
        RJ_RATE_LIMIT_SENDER="100000 per minute",
        RJ_RATE_LIMIT_API="100000 per minute",
        TWILIO_ACCOUNT_SID=scripts.ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=scripts.AUTH_TOKEN,
        TWILIO_FROM_NUMBER=scripts.FROM_NUMBER,
        TWILIO_API_BASE_URL=stubs["twilio"],
        TELEGRAM_BOT_TOKEN=scripts.TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=scripts.TELEGRAM_SECRET,
        TELEGRAM_API_BASE_URL=stubs["telegram"],
    )
    return env


class Process:
    """A server subprocess: started, waited for, measured (CPU from /proc), stopped."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: Path, port: int) -> None:
        """Start `argv` with its output in cwd/server-PORT.log."""
        self.port, self.env, self.log_path = port, env, cwd / f"server-{port}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own console scripts
                list(argv), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until GET /healthz answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        """True when GET /healthz answers 200."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _threads(threads: int | None) -> list[str]:
    """--threads N when asked for; otherwise each server's own default (waitress's 4)."""
    return [] if threads is None else ["--threads", str(threads)]


def start_service(
    env: dict[str, str],
    cwd: Path,
    port: int,
    threads: int | None,
    worker: bool,
    extra: Sequence[str],
) -> Process:
    """`rj-frontdoor serve` exactly as deployed (plus any extra arguments)."""
    argv = [cli_path(), "serve", "--port", str(port), *_threads(threads), *extra]
    return Process([*argv, *([] if worker else ["--no-worker"])], env, cwd, port)


def start_reference(env: dict[str, str], cwd: Path, port: int, threads: int | None) -> Process:
    """The minimal reference endpoint, under the same waitress settings."""
    argv = [sys.executable, "-m", "bench.reference_app", "--port", str(port)]
    env = {**env, "PYTHONPATH": str(ROOT)}
    return Process([*argv, *_threads(threads)], env, cwd, port)
