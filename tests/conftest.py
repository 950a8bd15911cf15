"""Shared fixtures: a real database (SQLite, or PostgreSQL by RJ_DATABASE_URL) and runtimes."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from case_store.crypto import new_fernet_key
from case_store.db import Database
from case_store.migrate import upgrade
from case_store.models import Base
from webhooks.app import create_app
from webhooks.config import Settings, load_settings
from webhooks.runtime import Runtime, build_runtime

pytest_plugins = ["tests.plugins.safeguarding_summary"]

FROZEN_NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
TEST_KEYS = (new_fernet_key(), new_fernet_key())


def pytest_addoption(parser: pytest.Parser) -> None:
    """--update-golden rewrites the golden transcripts from the current flow."""
    parser.addoption("--update-golden", action="store_true", help="rewrite golden transcripts")


def _postgres_base_url() -> str | None:
    """The PostgreSQL server the suite should use, if any."""
    url = os.environ.get("RJ_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for this run, dropped afterwards."""
    base = _postgres_base_url()
    if base is None:
        yield None
        return
    name = f"rj_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(postgres_url: str | None, tmp_path: Path) -> Iterator[str]:
    """A clean database per test: a fresh SQLite file, or emptied PostgreSQL tables."""
    if postgres_url is None:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    yield postgres_url
    engine = create_engine(postgres_url)
    try:
        _empty_postgres(engine)
    finally:
        engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    """Every row gone and every sequence restarted, as TRUNCATE ... RESTART IDENTITY does.

    TRUNCATE makes new files for each table and index, about a tenth of a second a test;
    DELETE, children first, takes a few milliseconds for a test's rows. TRUNCATE stays for
    an older revision (a test may leave one) whose foreign keys that order does not fit.
    """
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
    tables = [t.name for t in Base.metadata.sorted_tables if t.name in present]
    try:
        with engine.begin() as conn:
            for name in reversed(tables):
                conn.execute(text(f'DELETE FROM "{name}"'))
            for sequence in conn.scalars(text(_SEQUENCES)).all():
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    except IntegrityError:
        with engine.begin() as conn:
            listed = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))


_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to the newest revision, once per session (per xdist worker)."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()  # the last connection to close folds the WAL into the file
    return path


@pytest.fixture
def migrated(database_url: str, request: pytest.FixtureRequest) -> None:
    """The test's database migrated, for the fixtures that build a runtime (which migrates).

    On SQLite, a copy of `migrated_sqlite`, the file build_runtime's own upgrade would have
    made from nothing: copying takes under a millisecond, migrating about 0.15 s of CPU.
    build_runtime still runs the upgrade, which finds nothing to do. Tests that only take
    `environ` keep an empty file, for `serve` or the CLI to migrate.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return  # PostgreSQL: one database per session, migrated by its first test
    path = Path(str(url.database))
    if not path.exists():
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)


class FrozenClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, now: datetime = FROZEN_NOW) -> None:
        """Start at `now`."""
        self.now = now

    def __call__(self) -> datetime:
        """The frozen time."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    """The frozen clock."""
    return FrozenClock()


@pytest.fixture
def environ(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A complete environment for the service, as a deployer would set it."""
    return {
        "RJ_INSTANCE_PATH": str(tmp_path / "instance"),
        "RJ_DATABASE_URL": database_url,
        "RJ_SECRET_KEY": "test-secret-key-not-for-production",
        "RJ_ENCRYPTION_KEYS": ",".join(TEST_KEYS),
        "RJ_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "RJ_COORDINATOR_EMAILS": "coordinator@example.org",
        # whole conversations in a second; tests/test_rate_limits.py sets real limits
        "RJ_RATE_LIMIT_SENDER": "1000 per minute",
        "RJ_RATE_LIMIT_API": "5000 per minute",
    }


@pytest.fixture
def settings(environ: dict[str, str]) -> Settings:
    """Settings read from the test environment."""
    return load_settings(environ)


def counting_references() -> Iterator[str]:
    """RJ-000001, RJ-000002, ... so transcripts repeat exactly."""
    return (f"RJ-{n:06d}" for n in itertools.count(1))


@pytest.fixture
def runtime(settings: Settings, clock: FrozenClock, migrated: None) -> Iterator[Runtime]:
    """The service's parts on the test database, with a frozen clock and counted references."""
    references = counting_references()
    built = build_runtime(settings, clock=clock, make_reference=lambda: next(references))
    yield built
    built.db.dispose()


@pytest.fixture
def make_runtime(
    environ: dict[str, str], clock: FrozenClock, migrated: None
) -> Iterator[Callable[..., Runtime]]:
    """Build runtimes with extra environment variables (all disposed afterwards)."""
    built: list[Runtime] = []

    def factory(**extra: str) -> Runtime:
        references = counting_references()
        runtime = build_runtime(
            load_settings({**environ, **extra}),
            clock=clock,
            make_reference=lambda: next(references),
        )
        built.append(runtime)
        return runtime

    yield factory
    for runtime in built:
        runtime.db.dispose()


@pytest.fixture
def make_app(make_runtime: Callable[..., Runtime]) -> Callable[..., Flask]:
    """Build Flask apps with extra environment variables."""

    def factory(**extra: str) -> Flask:
        app = create_app(runtime=make_runtime(**extra))
        app.config["TESTING"] = True
        return app

    return factory
