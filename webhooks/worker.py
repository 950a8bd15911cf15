"""The outbox worker: claims due sends, delivers them, records the outcome."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.db import Database
from case_store.models import Conversation, Message, OutboxItem
from case_store.outbox import CHAT_KINDS, claim, mark_cancelled, mark_failed, mark_sent
from sms_gateway.status import mark_opted_out
from webhooks.delivery import Delivered, Sender, SendError

log = logging.getLogger(__name__)
Schedules = Callable[[Session, datetime], object]
Housekeeping = Callable[[datetime], object]
DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class _Job:
    """What the worker needs to send one item, read inside the claim's transaction."""

    id: int
    kind: str
    recipient: str
    payload: dict[str, object]
    message_id: int | None


class OutboxWorker:
    """Delivers outbox rows with retries, backoff, dead-lettering and per-person pacing."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime],
        lease_seconds: float = 60.0,
        batch: int = 10,
        schedules: Schedules | None = None,
        schedule_every: float = 30.0,
        housekeeping: Housekeeping | None = None,
        housekeeping_every: float = DAY_SECONDS,
    ) -> None:
        """Work on `db` with a sender per kind of item, running `schedules` now and then.

        `housekeeping` (the retention purge) runs in its own transactions, once at start and
        then every `housekeeping_every` seconds.
        """
        self.db, self.senders, self.clock = db, senders, clock
        self.lease_seconds, self.batch = lease_seconds, batch
        self.schedules, self.schedule_every = schedules, schedule_every
        self.schedules_ran_at: datetime | None = None
        self.housekeeping, self.housekeeping_every = housekeeping, housekeeping_every
        self.housekeeping_ran_at: datetime | None = None
        self.random = random.Random()  # noqa: S311 - jitter, not security  # nosec B311

    def run_schedules(self) -> None:
        """Queue whatever the schedules say is due (idempotent: safe after a restart)."""
        if self.schedules is None:
            return
        with self.db.transaction() as session:
            self.schedules(session, self.clock())
        self.schedules_ran_at = self.clock()

    def _schedules_due(self) -> bool:
        """True when the schedules have not run for a while."""
        last = self.schedules_ran_at
        return last is None or (self.clock() - last).total_seconds() >= self.schedule_every

    def run_housekeeping(self) -> None:
        """Run the housekeeping if it is due; a failure waits for the next period."""
        now = self.clock()
        last = self.housekeeping_ran_at
        if self.housekeeping is None or (
            last is not None and (now - last).total_seconds() < self.housekeeping_every
        ):
            return
        self.housekeeping_ran_at = now
        self.housekeeping(now)

    def run_once(self) -> int:
        """Run due schedules, then claim and process one batch; the number of items sent."""
        if self._schedules_due():
            self.run_schedules()
        self.run_housekeeping()
        with self.db.transaction() as session:
            ids = claim(session, self.clock(), self.lease_seconds, self.batch)
        for item_id in ids:
            self._process(item_id)
        return len(ids)

    def run_until(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Work until `stop` is set, sleeping while there is nothing due."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep the worker alive through a database outage
                log.exception("outbox worker pass failed")
                busy = 0
            if not busy:
                stop.wait(poll_seconds)

    def _process(self, item_id: int) -> None:
        """Send one claimed item and record what happened."""
        job = self._load(item_id)
        if job is None:
            return
        try:
            delivered = self.senders[job.kind].send(job.recipient, dict(job.payload), job.id)
        except SendError as exc:
            self._failed(job, exc)
        except KeyError:
            self._failed(job, SendError(f"no sender for {job.kind}", permanent=True))
        else:
            self._sent(job, delivered)

    def _load(self, item_id: int) -> _Job | None:
        """The job for a claimed item, or None when it must not be sent any more."""
        with self.db.transaction() as session:
            item = session.get(OutboxItem, item_id)
            if item is None or item.status != "sending":
                return None
            if item.kind in CHAT_KINDS and _opted_out(session, item.kind, item.recipient_hash):
                mark_cancelled(item, "opted out")
                return None
            return _Job(item.id, item.kind, item.recipient, item.payload, item.message_id)

    def _sent(self, job: _Job, delivered: Delivered) -> None:
        """Record the provider's acceptance on the item and its message."""
        now = self.clock()
        log.debug("sent", extra={"event": "sent", "kind": job.kind, "outbox_id": job.id})
        with self.db.transaction() as session:
            item = session.get_one(OutboxItem, job.id)
            mark_sent(session, item, now)
            message = session.get(Message, job.message_id) if job.message_id else None
            if message is not None:
                message.channel_message_id = delivered.provider_id
                message.status, message.updated_at = delivered.status, now

    def _failed(self, job: _Job, error: SendError) -> None:
        """Retry later, or dead-letter; an opt-out marks the person."""
        event = {"event": "send_failed", "kind": job.kind, "outbox_id": job.id}
        log.warning("send failed", extra={**event, "error": str(error)})
        with self.db.transaction() as session:
            item = session.get_one(OutboxItem, job.id)
            mark_failed(
                session,
                item,
                str(error),
                self.clock(),
                permanent=error.permanent,
                rand=self.random.random(),
                retry_after=error.retry_after,
            )
            if error.opted_out:
                mark_opted_out(session, item.conversation_id)


def _opted_out(session: Session, channel: str, recipient_hash: str) -> bool:
    """True when the person at this address asked us to stop (volunteers included)."""
    query = select(Conversation.opted_out).where(
        Conversation.channel == channel, Conversation.address_hash == recipient_hash
    )
    return bool(session.scalar(query))


def start_worker_thread(worker: OutboxWorker, stop: threading.Event) -> threading.Thread:
    """Run the worker in a daemon thread (the embedded worker of `serve`)."""
    thread = threading.Thread(
        target=worker.run_until, args=(stop,), name="outbox-worker", daemon=True
    )
    thread.start()
    return thread
