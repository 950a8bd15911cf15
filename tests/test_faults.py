"""Faults under load: kill -9 of serve and worker, the database away, providers failing,
and two web processes with two workers sharing one PostgreSQL database.

tests/test_serve_process.py kills `serve` in the middle of one conversation and
tests/test_worker.py checks SMTP backoff; these add load, several senders and processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from case_store.db import Database
from case_store.models import Conversation, Message, OutboxItem, Referral
from case_store.outbox import MAX_ATTEMPTS, enqueue
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH
from tests.stubs.smtp import SmtpSink
from tests.stubs.telegram_api import TelegramStub
from tests.stubs.twilio_api import TwilioStub
from tests.telegram_helpers import SECRET, TOKEN, telegram_env, text_update
from tests.test_serve_process import Server, free_port
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, sms, twilio_env
from webhooks.runtime import Runtime, build_worker

SENDERS = [f"+4477009004{n:02d}" for n in range(6)]


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """A stub Twilio REST API."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


def process_env(environ: dict[str, str], port: int, **extra: str) -> dict[str, str]:
    """The environment of a `serve` or `worker` process."""
    return {**os.environ, **environ, "RJ_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **extra}


def signed_sms(base: str, sender: str, body: str, sid: str) -> httpx.Response:
    """One inbound SMS as Twilio posts it to a running server."""
    form = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": "+447700900000",
        "Body": body,
    }
    url = f"{base}/webhooks/twilio/sms"
    sig = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": sig}, timeout=10)


def sid_for(sender: int, turn: int) -> str:
    """A stable MessageSid per sender and turn, so a resend is a Twilio-style retry."""
    return f"SM{sender:02d}{turn:030x}"


def converse_until_refused(base: str, sender: int, start: int, acked: list[int]) -> None:
    """Send HAPPY_PATH from `start`; record each acknowledged turn; stop at the first failure."""
    for turn in range(start, len(HAPPY_PATH)):
        try:
            response = signed_sms(base, SENDERS[sender], HAPPY_PATH[turn], sid_for(sender, turn))
        except httpx.TransportError:
            return
        if response.status_code != 200:
            return
        acked.append(turn)


def count(db: Database, query: Any) -> int:
    """A scalar count."""
    with db.transaction() as session:
        return int(session.scalar(query) or 0)


def test_kill_9_of_serve_under_load_loses_and_repeats_nothing(
    environ: dict[str, str], settings: Any
) -> None:
    port = free_port()
    env = process_env(environ, port, **twilio_env())
    acked: list[list[int]] = [[] for _ in SENDERS]
    server = Server(env, port)
    threads = [
        threading.Thread(target=converse_until_refused, args=(server.base, n, 0, acked[n]))
        for n in range(len(SENDERS))
    ]
    for thread in threads:
        thread.start()
    while sum(map(len, acked)) < len(SENDERS) * 8:  # mid-conversation for everyone
        time.sleep(0.01)
    server.kill()
    for thread in threads:
        thread.join(10)
    db = Database(settings.database_url)
    try:
        inbound = select(func.count()).select_from(Message).where(Message.direction == "in")
        assert count(db, inbound) >= sum(map(len, acked))  # every acknowledged message kept
        server = Server(env, port)
        try:  # each person carries on; a message that was never acknowledged is sent again
            for n in range(len(SENDERS)):
                converse_until_refused(server.base, n, len(acked[n]), acked[n])
        finally:
            server.kill()
        assert [len(a) for a in acked] == [len(HAPPY_PATH)] * len(SENDERS)
        assert count(db, inbound) == len(SENDERS) * len(HAPPY_PATH)  # each once
        assert count(db, select(func.count()).select_from(Conversation)) == len(SENDERS)
        assert count(db, select(func.count(func.distinct(Referral.reference)))) == len(SENDERS)
        assert count(db, select(func.count()).select_from(Referral)) == len(SENDERS)
    finally:
        db.dispose()


def queue_sms(db: Database, n: int, prefix: str = "load") -> list[str]:
    """Queue `n` service-started SMS to different people; their texts."""
    texts = [f"{prefix} {i}" for i in range(n)]
    now = FrozenClock().now.replace(year=2020)  # due at once for a real-clock worker
    with db.transaction() as session:
        for i, body in enumerate(texts):
            enqueue(
                session,
                kind="sms",
                recipient=f"+447700900{i:03d}",
                payload={"text": body},
                dedupe_key=f"{prefix}-{i}",
                now=now,
            )
    return texts


@contextmanager
def worker_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A `rj-frontdoor worker` process, killed with SIGKILL on the way out."""
    process = subprocess.Popen(
        [sys.executable, "-m", "webhooks", "worker", "--poll", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)


def wait_until(done: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll until `done()`, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def statuses(db: Database) -> Counter[str]:
    """How many outbox rows are in each status."""
    with db.transaction() as session:
        return Counter(session.scalars(select(OutboxItem.status)))


def test_kill_9_of_worker_mid_load_resumes_without_repeats(
    environ: dict[str, str], runtime: Runtime, twilio: TwilioStub
) -> None:
    env = process_env(environ, 8000, **twilio_env(twilio.base_url))
    texts = queue_sms(runtime.db, 30)
    twilio.delay = 0.05
    with worker_process(env):
        wait_until(lambda: len(twilio.messages) >= 8)
    in_flight = _in_flight(runtime.db)
    assert 0 < statuses(runtime.db)["sent"] < len(texts)
    with runtime.db.transaction() as session:  # the dead worker's lease runs out
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "sending")
            .values(lease_until=OutboxItem.created_at)
        )
    twilio.delay = 0.0
    with worker_process(env):
        wait_until(lambda: statuses(runtime.db)["sent"] == len(texts))
    sent = Counter(m["Body"] for m in twilio.messages)
    assert set(sent) == set(texts)
    # Only a send cut off between Twilio's acceptance and our record of it can go twice.
    assert {body for body, n in sent.items() if n > 1} <= in_flight


def _in_flight(db: Database) -> set[str]:
    """Texts of sends the killed worker had claimed but not recorded."""
    with db.transaction() as session:
        rows = session.scalars(select(OutboxItem).where(OutboxItem.status == "sending"))
        return {str(row.payload["text"]) for row in rows}


# -- the database away ----------------------------------------------------------------------
@contextmanager
def database_away(runtime: Runtime, postgres_base: str | None) -> Iterator[None]:
    """Make the database unreachable for a while: the SQLite file moved, or PG renamed."""
    url = make_url(runtime.settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        moved = {p: p.with_name(p.name + ".away") for p in path.parent.glob(path.name + "*")}
        for old, new in moved.items():
            old.rename(new)
        path.mkdir()  # a directory where the file was: every open fails
        try:
            yield
        finally:
            path.rmdir()
            for old, new in moved.items():
                new.rename(old)
        return
    admin = create_engine(
        make_url(postgres_base or "").set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    name, hidden = str(url.database), f"{url.database}_away"
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"
            ),
            {"d": name},
        )
        conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{hidden}"'))
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{hidden}" RENAME TO "{name}"'))
        admin.dispose()


@pytest.fixture
def own_database(environ: dict[str, str], postgres_url: str | None) -> Iterator[dict[str, str]]:
    """On PostgreSQL, a database of this test's own (it is renamed away and back)."""
    if postgres_url is None:
        yield environ
        return
    name = f"rj_fault_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield {
        **environ,
        "RJ_DATABASE_URL": make_url(postgres_url)
        .set(database=name)
        .render_as_string(hide_password=False),
    }
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_away" WITH (FORCE)'))
    admin.dispose()


def test_database_away_gives_5xx_then_recovers_by_itself(
    own_database: dict[str, str],
    make_app: Callable[..., Flask],
    postgres_url: str | None,
    clock: FrozenClock,
) -> None:
    with TelegramStub(TOKEN) as stub:
        app = make_app(**own_database, **twilio_env(), **telegram_env(stub.base_url))
        runtime: Runtime = app.extensions["rj"]
        client = app.test_client()
        assert sms(client, "hi", SENDERS[0], sid="SM" + "1" * 32).status_code == 200
        worker = build_worker(runtime)
        with runtime.db.transaction() as session:
            before = session.scalar(select(func.count()).select_from(Message))
        update_body = text_update("hi", chat=4242)
        telegram_headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        with database_away(runtime, postgres_url):
            refused = sms(client, "yes", SENDERS[0], sid="SM" + "2" * 32)
            assert refused.status_code == 503 and refused.headers["Retry-After"]
            tg = client.post("/webhooks/telegram", json=update_body, headers=telegram_headers)
            assert tg.status_code == 503
            assert client.get("/healthz").status_code == 503
            with pytest.raises(Exception):  # noqa: B017 - the worker's pass fails; run_until logs it
                worker.run_once()
        assert client.get("/healthz").status_code == 200  # no manual step
        with runtime.db.transaction() as session:  # nothing half-written
            assert session.scalar(select(func.count()).select_from(Message)) == before
        retried = sms(client, "yes", SENDERS[0], sid="SM" + "2" * 32)  # Twilio's retry
        assert retried.status_code == 200 and b"Is it safe" in retried.data
        tg = client.post("/webhooks/telegram", json=update_body, headers=telegram_headers)
        assert tg.status_code == 200
        clock.advance(seconds=5)
        while worker.run_once():
            clock.advance(seconds=2)
        assert stub.wait_for("sendMessage", 1)


# -- providers failing ------------------------------------------------------------------------
def _fail_always(kind: str, twilio: TwilioStub, stub: TelegramStub) -> None:
    """Make the provider for `kind` fail every attempt with a retryable error."""
    if kind == "sms":
        for _ in range(MAX_ATTEMPTS + 1):
            twilio.fail_next(status=503, code=20503, message="Service unavailable")
    elif kind == "telegram":
        for _ in range(MAX_ATTEMPTS + 1):
            stub.fail_next("sendMessage", 502, "Bad Gateway")


@pytest.mark.parametrize("kind", ["sms", "telegram", "email"])
def test_a_failing_provider_is_retried_with_backoff_then_dead_lettered(
    kind: str, make_runtime: Callable[..., Runtime], twilio: TwilioStub, clock: FrozenClock
) -> None:
    with TelegramStub(TOKEN) as stub:
        runtime = make_runtime(
            **twilio_env(twilio.base_url),
            **telegram_env(stub.base_url),
            RJ_SMTP_HOST="127.0.0.1",
            RJ_SMTP_PORT=str(free_port()),
        )
        _fail_always(kind, twilio, stub)
        recipient = {"sms": "+447700900777", "telegram": "4242", "email": "c@example.org"}[kind]
        payload = {"text": "t", "subject": "s", "html": "<p>h</p>"}
        with runtime.db.transaction() as s:
            enqueue(s, kind=kind, recipient=recipient, payload=payload, dedupe_key="f", now=clock())
        worker, delays = build_worker(runtime), []
        for _ in range(MAX_ATTEMPTS):
            assert worker.run_once() == 1
            with runtime.db.transaction() as s:
                item = s.scalars(select(OutboxItem)).one()
            if item.status == "dead":
                break
            delays.append((item.next_attempt_at - clock()).total_seconds())
            assert worker.run_once() == 0  # not before its time
            clock.now = item.next_attempt_at
        assert item.status == "dead" and item.attempts == MAX_ATTEMPTS and item.last_error
        assert all(later > earlier for earlier, later in pairwise(delays))
        assert twilio.messages == [] and stub.sent == []  # nothing was delivered
        if kind == "telegram":  # each attempt reached Telegram once, and only once
            assert len(stub.calls("sendMessage")) == MAX_ATTEMPTS


# -- two web processes, two workers, one PostgreSQL ---------------------------------------------
@pytest.mark.skipif(
    not os.environ.get("RJ_DATABASE_URL", "").startswith("postgresql"),
    reason="several processes share one database only on PostgreSQL "
    "(set RJ_DATABASE_URL to a PostgreSQL server; CI runs both)",
)
def test_two_web_processes_and_two_workers_send_everything_exactly_once(
    environ: dict[str, str], runtime: Runtime, twilio: TwilioStub
) -> None:
    ports = [free_port(), free_port()]
    with SmtpSink() as smtp:
        extra = {
            **twilio_env(twilio.base_url),
            "RJ_SMTP_HOST": "127.0.0.1",
            "RJ_SMTP_PORT": str(smtp.port),
            "RJ_MAIL_FROM": "rj@example.org",
        }
        texts = queue_sms(runtime.db, 40)
        servers = [Server(process_env(environ, p, **extra) | {"RJ_ENV": "test"}, p) for p in ports]
        try:
            with (
                worker_process(process_env(environ, ports[0], **extra)),
                worker_process(process_env(environ, ports[1], **extra)),
            ):
                for turn, body in enumerate(HAPPY_PATH):  # each turn through either server
                    for n in range(4):
                        base = servers[(turn + n) % 2].base
                        sent = signed_sms(base, SENDERS[n], body, sid_for(n, turn))
                        assert sent.status_code == 200
                wait_until(lambda: statuses(runtime.db)["sent"] == len(texts) + 4)
                emails = smtp.wait_for(4)
        finally:
            for server in servers:
                server.kill()
    assert sorted(Counter(m["Body"] for m in twilio.messages).values()) == [1] * len(texts)
    subjects = Counter(str(m["Subject"]) for m in emails)
    assert len(subjects) == 4 and set(subjects.values()) == {1}
    assert count(runtime.db, select(func.count()).select_from(Referral)) == 4
