"""The rate limiter's in-process storage: limits' memory storage, swept by one thread.

limits' `MemoryStorage` expires old entries in a `threading.Timer` of 10 ms that every hit
restarts once the last one has finished. Under steady load that is a new thread on about
every other request, each walking every key, and the request that starts it waits for the
new thread to get the interpreter lock. Here one daemon thread per process sweeps every
such storage once a second instead: expiry is only housekeeping (a moving window reads the
entries' times, not the sweep), so counts are unchanged.

Registered with limits as the `rj-memory://` scheme (limits' custom storage mechanism).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from limits.storage import MemoryStorage

log = logging.getLogger(__name__)
STORAGE_URI = "rj-memory://"  # SweptMemoryStorage, registered with limits by its class
SWEEP_SECONDS = 1.0
_storages: weakref.WeakSet[SweptMemoryStorage] = weakref.WeakSet()
_sweeper_guard = threading.Lock()
_sweeper: threading.Thread | None = None


class SweptMemoryStorage(MemoryStorage):
    """`MemoryStorage` whose expiry runs on the shared sweeper thread."""

    STORAGE_SCHEME = ["rj-memory"]  # noqa: RUF012 - limits declares it an instance variable

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        """As MemoryStorage; then join the sweep."""
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        _storages.add(self)
        _ensure_sweeper()

    def _MemoryStorage__schedule_expiry(self) -> None:
        """Called by every hit: the sweeper thread does this work instead."""

    def sweep(self) -> None:
        """Drop expired entries (limits' own expiry pass), then the keys left with none (limits
        keeps them, one per sender ever seen)."""
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        for key in [key for key, entries in list(self.events.items()) if not entries]:
            with self.locks[key]:
                if not self.events.get(key):
                    self.events.pop(key, None)
                    self.locks.pop(key, None)


def _ensure_sweeper() -> None:
    """Start the process's sweeper thread once."""
    global _sweeper
    with _sweeper_guard:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(target=_sweep_forever, name="limiter-sweep", daemon=True)
            _sweeper.start()


def _sweep_forever() -> None:
    """Sweep every live storage, once a second, for the life of the process."""
    while True:
        time.sleep(SWEEP_SECONDS)
        for storage in list(_storages):
            try:
                storage.sweep()
            except Exception:  # a bad pass must not end the sweeping
                log.exception("rate-limit storage sweep failed")
