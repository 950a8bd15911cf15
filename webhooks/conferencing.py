"""Conference notices: invitations, replies, reminders, nudges, moves and cancellations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.labels import Labels, load_labels
from bot.profile import Profile
from bot.render import Renderer
from case_store.conference_sends import link_send, stop_unsent
from case_store.conferences import (
    Timing,
    confirmed_count,
    due_nudges,
    due_reminders,
    due_shortages,
    expire_unanswered,
    pending_for,
    set_status,
    still_invited,
)
from case_store.models import Conference, Invitation, Referral, Volunteer
from case_store.outbox import enqueue
from case_store.volunteers import is_removed
from sms_gateway.volunteer_replies import parse_volunteer_reply
from webhooks.notifications import EmailNotifier

FOLLOW_UPS = ("reminder", "nudge")  # the keys of sends that only repeat what was said


@dataclass(frozen=True)
class Answer:
    """What to say back to a volunteer, and which invitations the exchange was about."""

    texts: list[str]
    about: list[int]


class ConferenceDesk:
    """Everything said to volunteers about conferences, and the emails it triggers."""

    def __init__(
        self, profile: Profile, notifier: EmailNotifier, timing: Timing | None = None
    ) -> None:
        """Speak with the profile's words and time zone."""
        self.profile, self.notifier = profile, notifier
        self.timing = timing or Timing()
        self.renderer = Renderer("sms", profile)
        self.labels: Labels = load_labels(str(profile.service.get("locale", "en")))
        self.zone = ZoneInfo(profile.timezone)

    def when(self, moment: datetime) -> str:
        """A start time as people read it, in the service's time zone."""
        local = moment.astimezone(self.zone)
        return f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M}"

    # -- outgoing ----------------------------------------------------------------------------
    def text(
        self, session: Session, invitation: Invitation, template: str, key: str, now: datetime
    ) -> None:
        """Queue one SMS about an invitation, once per key (never to a removed volunteer)."""
        volunteer = session.get_one(Volunteer, invitation.volunteer_id)
        if is_removed(volunteer):
            return
        conference = invitation.conference
        body = self.renderer.text(
            template,
            code=invitation.code,
            venue=conference.venue,
            when=self.when(conference.starts_at),
        )
        item = enqueue(
            session,
            kind="sms",
            recipient=volunteer.phone,
            payload={"text": body},
            dedupe_key=f"{key}:{invitation.id}:{conference.starts_at.isoformat()}",
            now=now,
        )
        if item is not None:
            link_send(session, item, invitation.id)

    def invite_all(self, session: Session, conference: Conference, now: datetime) -> None:
        """Invite every volunteer on a new conference."""
        for invitation in conference.invitations:
            self.text(session, invitation, "volunteer_invite", "invite", now)

    def moved(self, session: Session, conference: Conference, now: datetime) -> None:
        """Tell everyone invited the new time or place; they answer again."""
        conference.shortage_alerted_at = conference.all_confirmed_at = None
        for invitation in still_invited(conference):
            invitation.reminded_at = invitation.nudged_at = None
            invitation.invited_at = now
            set_status(session, invitation, "invited", now)
            self.text(session, invitation, "volunteer_moved", f"moved{now.isoformat()}", now)

    def cancelled(self, session: Session, conference: Conference, now: datetime) -> None:
        """Call it off: reminders and nudges not yet sent stop; whoever had not declined is told.

        An invitation or a move still queued goes first: the cancellation names its time.
        """
        conference.status, conference.updated_at = "cancelled", now
        stop_unsent(session, conference, FOLLOW_UPS)
        for invitation in conference.invitations:
            if invitation.status in {"invited", "confirmed"}:
                self.text(session, invitation, "volunteer_cancelled", "cancelled", now)

    # -- replies ----------------------------------------------------------------------------
    def handle_reply(
        self, session: Session, volunteer: Volunteer, text: str, now: datetime
    ) -> Answer | None:
        """Answer a volunteer's SMS; None when it is not about an invitation."""
        reply = parse_volunteer_reply(text, self.labels)
        pending = pending_for(session, volunteer.id, now)
        if not pending and not (reply.answer and reply.code):
            return None
        listing = [{"code": i.code, "when": self.when(i.conference.starts_at)} for i in pending]
        about = [i.id for i in pending]
        if reply.code and reply.code not in {i.code for i in pending}:
            unknown = self.renderer.text(
                "volunteer_unknown_code", code=reply.code, invitations=listing
            )
            return Answer([unknown], about)
        if reply.answer is None:
            return Answer([self.renderer.text("volunteer_unclear", invitations=listing)], about)
        chosen = [i for i in pending if i.code == reply.code] if reply.code else pending
        if len(chosen) > 1:
            return Answer([self.renderer.text("volunteer_which", invitations=listing)], about)
        return Answer([self._answer(session, chosen[0], reply.answer, now)], [chosen[0].id])

    def _answer(self, session: Session, invitation: Invitation, answer: str, now: datetime) -> str:
        """Record yes or no, email the co-ordinator where needed, and thank them."""
        conference = invitation.conference
        status = "confirmed" if answer == "yes" else "declined"
        set_status(session, invitation, status, now)
        session.flush()
        if status == "declined":
            self.email(
                session,
                conference,
                "conference_declined",
                f"declined:{invitation.id}",
                "A facilitator has declined a conference invitation.",
                now,
            )
        elif all(i.status == "confirmed" for i in still_invited(conference)):
            conference.all_confirmed_at = now
            self.email(
                session,
                conference,
                "conference_all_confirmed",
                f"all-confirmed:{conference.id}:{conference.starts_at.isoformat()}",
                "Every invited facilitator has confirmed.",
                now,
            )
        template = f"volunteer_{status}"
        return self.renderer.text(
            template, when=self.when(conference.starts_at), venue=conference.venue
        )

    # -- the co-ordinator ---------------------------------------------------------------------
    def email(
        self,
        session: Session,
        conference: Conference,
        subject_key: str,
        key: str,
        headline: str,
        now: datetime,
    ) -> None:
        """Queue a conference email to the co-ordinator: no personal details."""
        referral = session.get_one(Referral, conference.referral_id)
        context: dict[str, Any] = {
            "headline": headline,
            "conference_id": conference.id,
            "reference": referral.reference,
            "when": self.when(conference.starts_at),
            "confirmed": confirmed_count(conference),
            "needed": conference.min_facilitators,
            "invited": len(still_invited(conference)),
            "link": f"{self.notifier.base_url}/coordinator/referrals/{referral.reference}",
        }
        self.notifier.send(session, "conference", subject_key, context, key, now)

    # -- schedules ---------------------------------------------------------------------------
    def run_schedules(self, session: Session, now: datetime) -> dict[str, int]:
        """Send what has fallen due: reminders, nudges, shortage alerts; expire the rest."""
        reminders, nudges = (
            due_reminders(session, now, self.timing),
            due_nudges(session, now, self.timing),
        )
        for invitation in reminders:
            self.text(session, invitation, "volunteer_reminder", "reminder", now)
            invitation.reminded_at = now
        for invitation in nudges:
            self.text(session, invitation, "volunteer_nudge", "nudge", now)
            invitation.nudged_at = now
        shortages = due_shortages(session, now, self.timing)
        for conference in shortages:
            self.email(
                session,
                conference,
                "conference_shortage",
                f"shortage:{conference.id}:{conference.starts_at.isoformat()}",
                "A conference is close without enough confirmed facilitators.",
                now,
            )
            conference.shortage_alerted_at = now
        expired = expire_unanswered(session, now)
        return {
            "reminders": len(reminders),
            "nudges": len(nudges),
            "shortages": len(shortages),
            "no_reply": expired,
        }


def conference_for(session: Session, conference_id: int) -> Conference | None:
    """A conference by id."""
    return session.scalar(select(Conference).where(Conference.id == conference_id))
