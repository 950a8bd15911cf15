"""Reads at size: GET /api/v1/referrals (and the co-ordinator's queue page once it exists)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from bench.load import percentile
from bench.servers import cli_path

STAFF_EMAIL, STAFF_PASSWORD = "bench@example.org", "bench-password-0123456789"


def make_token(env: dict[str, str], cwd: Path) -> str:
    """`rj-frontdoor token create bench --scope referrals:read`: the token is the last line."""
    done = subprocess.run(  # noqa: S603 - our own console script
        [cli_path(), "token", "create", "bench", "--scope", "referrals:read"],
        env=env, cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def timed(get: Callable[[], httpx.Response], requests: int) -> dict[str, Any]:
    """p50/p95/max of `requests` sequential calls, after one warm-up call."""
    get()
    seconds, failures = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = get()
        seconds.append(time.perf_counter() - started)
        failures += answer.status_code != 200
    seconds.sort()
    return {
        "requests": requests,
        "errors": failures,
        **{k: round(1000 * percentile(seconds, f), 2)
           for k, f in (("p50_ms", 0.5), ("p95_ms", 0.95), ("max_ms", 1.0))},
    }  # fmt: skip


def time_api(base_url: str, token: str, requests: int) -> dict[str, Any]:
    """The queue's first page, a filtered page, and a page from the middle of the table."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        first = client.get("/api/v1/referrals")
        first.raise_for_status()
        items = first.json()["items"]
        newest = _id_of_cursor(first.json().get("next_cursor")) or len(items)
        middle = f"c{max(1, newest // 2)}"
        return {
            "page_items": len(items),
            "first_page": timed(lambda: client.get("/api/v1/referrals"), requests),
            "status_new_urgent": timed(
                lambda: client.get("/api/v1/referrals", params={"status": "new", "urgent": "true"}),
                requests,
            ),
            "middle_page": timed(
                lambda: client.get("/api/v1/referrals", params={"cursor": middle}), requests
            ),
        }


def _id_of_cursor(cursor: str | None) -> int | None:
    """The id inside a next_cursor (c123), as the API builds it today."""
    return int(cursor[1:]) if cursor and cursor[1:].isdigit() else None


def time_coordinator(base_url: str, env: dict[str, str], cwd: Path, requests: int) -> dict:
    """Time GET /coordinator/ after logging in; skipped (with why) while it does not exist."""
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=True) as client:
        if client.get("/coordinator/").status_code == 404:
            return {"skipped": "no /coordinator/ page in this build"}
        created = subprocess.run(  # noqa: S603 - our own console script
            [cli_path(), "user", "create", STAFF_EMAIL, "--password-stdin"],
            env=env, cwd=cwd, input=STAFF_PASSWORD + "\n", capture_output=True, text=True,
        )  # fmt: skip
        if created.returncode != 0:
            return {"skipped": f"could not create a login: {created.stderr.strip()[-200:]}"}
        problem = _log_in(client)
        if problem:
            return {"skipped": problem}
        return timed(lambda: client.get("/coordinator/"), requests)


class _Form(HTMLParser):
    """The first form with a password field: its action and its inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.has_password, self._in_form = False, False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.has_password:
            self.action, self.fields, self._in_form = values.get("action", ""), {}, True
        elif tag == "input" and self._in_form and values.get("name"):
            kind, name = values.get("type", "text"), values["name"]
            self.has_password |= kind == "password"
            self.fields[name] = {"password": STAFF_PASSWORD, "email": STAFF_EMAIL}.get(
                kind, STAFF_EMAIL if "mail" in name or "user" in name else values.get("value", "")
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def _log_in(client: httpx.Client) -> str | None:
    """Fill in the login form the dashboard redirects to; a reason when that fails."""
    page = client.get("/coordinator/")
    form = _Form()
    form.feed(page.text)
    if not form.has_password:
        return None if page.status_code == 200 else f"no login form (HTTP {page.status_code})"
    answer = client.post(str(page.url.join(form.action or "")), data=form.fields)
    if client.get("/coordinator/").url.path != "/coordinator/" or answer.status_code >= 400:
        return f"login failed (HTTP {answer.status_code})"
    return None
