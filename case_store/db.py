"""Engines and sessions: SQLite (WAL, BEGIN IMMEDIATE) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_SECONDS = 10
# SQLite has one writer. Every transaction here starts with BEGIN IMMEDIATE, so threads of
# one process queue for the file lock; SQLite's busy handler makes them poll with sleeps of
# up to 100 ms, which starves some requests for a second under load. A lock per database
# file hands the turn over at once, in arrival order; other processes still meet
# busy_timeout.
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _is_sqlite(url: str) -> bool:
    """True for any SQLite URL."""
    return url.startswith("sqlite")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL, a busy timeout, foreign keys, and our own transaction control."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "rj_read_only"  # an execution option: a transaction that only reads


def _sqlite_begin(connection: Any) -> None:
    """Take the write lock at the start so read-then-write transactions never hit BUSY_SNAPSHOT.

    A read-only transaction (`Database.reading`) begins deferred: in WAL mode a reader
    neither waits for the writer nor holds it up.
    """
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the database file, or None when it is not there."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def _watch_file(engine: Engine, path: str) -> None:
    """A pooled connection is handed out only while its file is still the database at `path`.

    A connection keeps the file it opened: moved away, replaced or restored from a backup,
    it would go on reading and writing the old one. This is SQLite's pre-ping.
    """

    @event.listens_for(engine, "connect")
    def remember(_dbapi: Any, record: Any) -> None:
        record.info["file"] = _file_identity(path)

    @event.listens_for(engine, "checkout")
    def check(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file") != _file_identity(path) or record.info.get("file") is None:
            raise DisconnectionError("the SQLite file is not the one this connection opened")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each database needs.

    SQLite files keep a small pool of open connections (SQLAlchemy's default): opening one
    per transaction costs the connect, four PRAGMAs, and a WAL checkpoint on every close.
    """
    if not _is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        _watch_file(engine, os.path.abspath(path))
    return engine


def _write_lock(url: str) -> threading.RLock:
    """The process-wide lock for one SQLite database."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(url, threading.RLock())


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        """Connect lazily to `url`."""
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._lock = _write_lock(self.engine.url.render_as_string()) if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return _is_sqlite(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self._writer(), self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A transaction that only reads: one consistent snapshot, and on SQLite no turn at
        the write lock (so it does not queue behind, or hold up, the webhooks' writes)."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield connection

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """SQLite: this process's turn at the write lock (then SQLite's own busy timeout)."""
        if self._lock is None:
            yield
            return
        acquired = self._lock.acquire(timeout=BUSY_TIMEOUT_SECONDS)
        try:
            yield
        finally:
            if acquired:
                self._lock.release()

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
