"""Volunteers: add, edit, deactivate, remove; and the upcoming conferences with each reply."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.answers import parse_phone
from case_store.audit import audit
from case_store.conferences import upcoming
from case_store.models import Referral, Volunteer
from case_store.volunteers import (
    add_volunteer,
    all_volunteers,
    is_removed,
    phone_hash,
    remove_volunteer,
)
from webhooks.dashboard.auth import staff
from webhooks.dashboard.blueprint import bp
from webhooks.dashboard.conference_views import conference_view
from webhooks.dashboard.forms import RemoveForm, ToggleForm, VolunteerForm
from webhooks.runtime import current_runtime


@bp.get("/volunteers")
def volunteers(form: VolunteerForm | None = None, status: int = 200) -> tuple[str, int]:
    """Every volunteer, and the conferences to come."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        people = all_volunteers(session)
        conferences = []
        now = runtime.conversations.clock()
        for conference in upcoming(session, now):
            view = conference_view(session, conference, now)
            view["reference"] = session.get_one(Referral, conference.referral_id).reference
            conferences.append(view)
        return render_template(
            "dashboard/volunteers.html",
            people=people,
            conferences=conferences,
            form=form or VolunteerForm(prefix="new"),
            toggle=ToggleForm(),
        ), status


def _listed(session: Session, volunteer_id: int) -> Volunteer:
    """A volunteer still on the list, or a 404 page (a removed one is gone for good)."""
    person = session.get(Volunteer, volunteer_id)
    if person is None or is_removed(person):
        abort(404, description="There is no such volunteer.")
    return person


def _checked_phone(form: VolunteerForm) -> str | None:
    """The form's phone number in E.164, or None with the field's error set."""
    phone = parse_phone(form.phone.data or "")
    if phone is None:
        form.phone.errors = [*form.phone.errors, "Give a UK mobile number, like 07700 900123."]
    return phone


@bp.post("/volunteers")
def add() -> Any:
    """Add a volunteer."""
    form = VolunteerForm(prefix="new")
    phone = _checked_phone(form) if form.validate_on_submit() else None
    if phone is None:
        return volunteers(form, 422)
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        added = add_volunteer(
            session,
            name=form.name.data.strip(),
            phone=phone,
            active=form.active.data,
            skills=list(form.skills.data or []),
            now=runtime.conversations.clock(),
        )
    if added is None:
        form.phone.errors = ["A volunteer with this number is already listed."]
        return volunteers(form, 409)
    flash(f"{form.name.data.strip()} added.")
    return redirect(url_for("dashboard.volunteers"))


@bp.route("/volunteers/<int:volunteer_id>", methods=["GET", "POST"])
def edit(volunteer_id: int) -> Any:
    """Edit a volunteer's details."""
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        person = _listed(session, volunteer_id)
        form = VolunteerForm(
            prefix="edit",
            data={
                "name": person.name,
                "phone": person.phone,
                "skills": person.skills,
                "active": person.active,
            },
        )
        if form.validate_on_submit():
            phone = _checked_phone(form)
            clash = phone and session.scalar(
                select(Volunteer.id).where(
                    Volunteer.phone_hash == phone_hash(phone), Volunteer.id != volunteer_id
                )
            )
            if clash:
                form.phone.errors = ["Another volunteer has this number."]
            if phone and not clash:
                person.name, person.phone = form.name.data.strip(), phone
                person.phone_hash = phone_hash(phone)
                person.skills, person.active = list(form.skills.data or []), form.active.data
                person.updated_at = runtime.conversations.clock()
                flash(f"{person.name}'s details saved.")
                return redirect(url_for("dashboard.volunteers"))
        status = 422 if form.errors else 200
        page = render_template("dashboard/volunteer_edit.html", form=form, person=person)
        return page, status


@bp.post("/volunteers/<int:volunteer_id>/active")
def toggle(volunteer_id: int) -> Response:
    """Deactivate an active volunteer, or reactivate one."""
    if not ToggleForm().validate_on_submit():
        abort(400, description="The form was not valid; please try again.")
    runtime = current_runtime()
    with runtime.db.transaction() as session:
        person = _listed(session, volunteer_id)
        person.active = not person.active
        person.updated_at = runtime.conversations.clock()
        flash(f"{person.name} is now {'active' if person.active else 'inactive'}.")
    return redirect(url_for("dashboard.volunteers"))


@bp.get("/volunteers/<int:volunteer_id>/remove")
def confirm_removal(volunteer_id: int) -> str:
    """Ask before removing a volunteer (this page changes nothing)."""
    with current_runtime().db.transaction() as session:
        person = _listed(session, volunteer_id)
        return render_template("dashboard/volunteer_remove.html", person=person, form=RemoveForm())


@bp.post("/volunteers/<int:volunteer_id>/remove")
def remove(volunteer_id: int) -> Response:
    """Remove a volunteer for good: their name and number are erased; they are never invited."""
    if not RemoveForm().validate_on_submit():
        abort(400, description="The form was not valid; please try again.")
    runtime = current_runtime()
    now = runtime.conversations.clock()
    with runtime.db.transaction() as session:
        person = _listed(session, volunteer_id)
        withdrawn = remove_volunteer(session, person, now)
        # by id only: the name and number are what the removal erases
        audit(session, staff().actor, "volunteer_removed", None, now, f"volunteer #{person.id}")
    flash(_removed_message(withdrawn))
    return redirect(url_for("dashboard.volunteers"))


def _removed_message(withdrawn: int) -> str:
    """What the co-ordinator is told once a volunteer is removed."""
    done = "Volunteer removed: their name and number are erased."
    if not withdrawn:
        return done
    return f"{done} They are off {withdrawn} conference{'s' if withdrawn > 1 else ''} to come."
