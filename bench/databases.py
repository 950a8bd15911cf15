"""Throwaway databases: a SQLite file in a temporary folder, or a PostgreSQL database
created on the given server and dropped afterwards."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


class Databases:
    """Hands out fresh database URLs and removes them at the end."""

    def __init__(self, server_url: str | None, workdir: Path) -> None:
        """SQLite under `workdir` unless `server_url` is a PostgreSQL URL."""
        self.workdir, self.created = workdir, list[str]()
        self.server: URL | None = None
        if server_url:
            url = make_url(server_url)
            if not url.drivername.startswith("postgresql"):
                raise ValueError("--db-url must be a postgresql:// URL (SQLite is the default)")
            self.server = url.set(drivername="postgresql+psycopg")

    @property
    def kind(self) -> str:
        """sqlite or postgresql."""
        return "sqlite" if self.server is None else "postgresql"

    def fresh(self, label: str) -> str:
        """The URL of a new, empty database."""
        if self.server is None:
            folder = self.workdir / label
            folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{folder / 'bench.db'}"
        name = f"rj_bench_{label}_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this run created."""
        for name in self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

    def _admin(self, statement: str) -> None:
        """Run one statement outside a transaction on the server's maintenance database."""
        assert self.server is not None
        engine = create_engine(self.server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()
