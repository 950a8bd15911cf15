"""The outbox worker: claims due sends, delivers them, records the outcome."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
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
    recipient_hash: str
    dedupe_key: str
    payload: dict[str, object]
    message_id: int | None


_COLUMNS = (
    OutboxItem.id,
    OutboxItem.kind,
    OutboxItem.recipient,
    OutboxItem.recipient_hash,
    OutboxItem.dedupe_key,
    OutboxItem.payload,
    OutboxItem.message_id,
)
# Read again just before each send: still ours to send (not cancelled by an erasure or a
# STOP meanwhile), and the person has not opted out.
_STILL_DUE = select(
    OutboxItem.status,
    exists(
        select(Conversation.id).where(
            Conversation.channel == OutboxItem.kind,
            Conversation.address_hash == OutboxItem.recipient_hash,
            Conversation.opted_out.is_(True),
        )
    ).label("opted_out"),
).where(OutboxItem.id == bindparam("id"))


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
            jobs = _jobs(session, ids)
        for job in jobs:
            self._process(job)
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

    def _process(self, job: _Job) -> None:
        """Send one claimed item, if it is still due, and record what happened."""
        if not self._still_due(job):
            return
        try:
            delivered = self.senders[job.kind].send(job.recipient, dict(job.payload), job.id)
        except SendError as exc:
            self._failed(job, exc)
        except KeyError:
            self._failed(job, SendError(f"no sender for {job.kind}", permanent=True))
        else:
            self._sent(job, delivered)

    def _still_due(self, job: _Job) -> bool:
        """True when the item must still go; one read, without the write lock.

        An item cancelled since the claim (an erasure, a STOP) is dropped; one to a person
        who has opted out is cancelled.
        """
        with self.db.reading() as connection:
            row = connection.execute(_STILL_DUE, {"id": job.id}).one_or_none()
        if row is None or row.status != "sending":
            return False
        if job.kind in CHAT_KINDS and row.opted_out:
            with self.db.transaction() as session:
                item = session.get_one(OutboxItem, job.id)
                if item.status == "sending":
                    mark_cancelled(item, "opted out")
            return False
        return True

    def _sent(self, job: _Job, delivered: Delivered) -> None:
        """Record the provider's acceptance on the item and its message."""
        now = self.clock()
        log.debug("sent", extra={"event": "sent", "kind": job.kind, "outbox_id": job.id})
        with self.db.transaction() as session:
            mark_sent(session, job, now)
            if job.message_id is not None:
                session.execute(
                    update(Message)
                    .where(Message.id == job.message_id)
                    .values(
                        channel_message_id=delivered.provider_id,
                        status=delivered.status,
                        updated_at=now,
                    )
                )

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


def _jobs(session: Session, ids: list[int]) -> list[_Job]:
    """The claimed items, decrypted once, in id order."""
    if not ids:
        return []
    rows = session.execute(select(*_COLUMNS).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id))
    return [_Job(*row) for row in rows]


def start_worker_thread(worker: OutboxWorker, stop: threading.Event) -> threading.Thread:
    """Run the worker in a daemon thread (the embedded worker of `serve`)."""
    thread = threading.Thread(
        target=worker.run_until, args=(stop,), name="outbox-worker", daemon=True
    )
    thread.start()
    return thread
