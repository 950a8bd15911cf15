"""Co-ordinator emails: no dedupe key names an address, and an event is emailed once however
often it is notified, by this process or another with the same keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from case_store.models import OutboxItem, Referral
from tests.conftest import FrozenClock
from tests.helpers import HAPPY_PATH, converse
from tests.privacy_helpers import raw_text_values, schedule
from webhooks.runtime import Runtime

COORDINATORS = ("coordinator@example.org", "hub.lead@example.org")


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    """The service with two co-ordinators to email."""
    return make_runtime(RJ_COORDINATOR_EMAILS=",".join(COORDINATORS))


def email_keys(runtime: Runtime) -> list[str]:
    """The dedupe key of every email queued, in order."""
    with runtime.db.transaction() as s:
        query = select(OutboxItem.dedupe_key).where(OutboxItem.kind == "email")
        return list(s.scalars(query.order_by(OutboxItem.id)))


def notify_of_the_referral(runtime: Runtime) -> None:
    """Tell the co-ordinators about the only referral, as the intake does once it is stored."""
    with runtime.db.transaction() as s:
        referral = s.scalars(select(Referral)).one()
        runtime.notifier.new_referral(s, referral, runtime.conversations.clock())


def test_no_dedupe_key_or_any_stored_text_holds_a_coordinators_address(
    runtime: Runtime, clock: FrozenClock
) -> None:
    converse(runtime.conversations, ["hi", "yes", "he is outside now with a knife"], prefix="u")
    converse(runtime.conversations, HAPPY_PATH)  # a new referral
    schedule(runtime, clock)  # in three days, and no facilitator has confirmed yet ...
    clock.advance(days=1, hours=1)
    with runtime.db.transaction() as s:  # ... so a shortage alert falls due
        assert runtime.desk.run_schedules(s, clock())["shortages"] == 1
    keys = email_keys(runtime)
    kinds = {key.split(":")[1] for key in keys}
    assert kinds == {"urgent", "referral", "shortage"} and len(keys) == 2 * len(kinds)
    stored = raw_text_values(runtime.db)  # encrypted columns as stored: no address in clear
    for address in COORDINATORS:
        assert [key for key in keys if address in key or address.split("@")[0] in key] == []
        assert [name for name, values in stored.items() if any(address in v for v in values)] == []


def test_notifying_again_queues_nothing_more_in_this_process_or_another(
    runtime: Runtime, make_runtime: Callable[..., Runtime]
) -> None:
    converse(runtime.conversations, HAPPY_PATH)
    first = email_keys(runtime)
    assert len(first) == len(COORDINATORS)
    notify_of_the_referral(runtime)  # a retry in this process
    restarted = make_runtime(RJ_COORDINATOR_EMAILS=",".join(COORDINATORS))
    notify_of_the_referral(restarted)  # and after a restart, or from another worker
    assert email_keys(runtime) == first
    assert len(set(first)) == len(COORDINATORS)  # one key for each co-ordinator
