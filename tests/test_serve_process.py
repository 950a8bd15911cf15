"""`rj-frontdoor serve` as deployed: a real process, killed with SIGKILL mid-conversation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, twilio_env


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One `rj-frontdoor serve` process."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        """Start it and wait until /healthz answers."""
        command = [sys.executable, "-m", "webhooks", "serve", "--port", str(port)]
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.process.kill()
        output = self.process.stdout.read() if self.process.stdout else b""  # a PIPE, never None
        raise RuntimeError(f"serve did not start: {output!r}")

    def sms(self, text: str, sid: str) -> list[str]:
        """Send a signed SMS; the reply texts."""
        params = {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": "+447700900555",
            "To": "+447700900000",
            "Body": text,
        }
        url = f"{self.base}/webhooks/twilio/sms"
        sig = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        response = httpx.post(url, data=params, headers={"X-Twilio-Signature": sig}, timeout=10)
        assert response.status_code == 200, response.text
        return [m.text or "" for m in ElementTree.fromstring(response.content).iter("Message")]

    def kill(self) -> None:
        """SIGKILL: no chance to tidy up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def server_env(environ: dict[str, str], tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    """The environment a deployer would set, with the SMS channel on."""
    port = free_port()
    env = {
        **os.environ,
        **environ,
        **twilio_env(),
        "RJ_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    yield env, port


def test_sigkill_mid_conversation_loses_nothing(server_env: tuple[dict[str, str], int]) -> None:
    env, port = server_env
    first = Server(env, port)
    try:
        first.sms("hi", "SM" + "1" * 32)
        assert first.sms("yes", "SM" + "2" * 32)[0].startswith("Is it safe")
    finally:
        first.kill()
    second = Server(env, port)
    try:
        assert second.sms("yes", "SM" + "2" * 32) == []  # Twilio's retry of an answered message
        assert second.sms("yes", "SM" + "3" * 32)[0].startswith("We keep what you tell us")
    finally:
        second.kill()
