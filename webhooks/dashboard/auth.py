"""Logging in and out: Flask-Login sessions, argon2 hashes, an idle timeout."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from case_store.audit import audit
from case_store.models import EMAIL_LENGTH, StaffUser
from case_store.users import authenticate
from webhooks.dashboard.blueprint import bp
from webhooks.runtime import current_runtime

WRONG = "That email and password do not match a login. Please try again."
PUBLIC_ENDPOINTS = {"dashboard.login", "dashboard.static"}


@dataclass(frozen=True)
class Staff(UserMixin):
    """The logged-in co-ordinator, as Flask-Login sees them."""

    id: int
    email: str
    password_key: str

    def get_id(self) -> str:
        """Flask-Login keeps this in the session: the id, and which password it logged in with."""
        return f"{self.id}:{self.password_key}"

    @property
    def actor(self) -> str:
        """How the audit trail names them."""
        return f"staff:{self.email}"


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=EMAIL_LENGTH)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


def init_login(app: Flask) -> None:
    """Set up Flask-Login for the dashboard."""
    manager = LoginManager(app)
    manager.login_view = "dashboard.login"
    manager.login_message = "Please log in to see the dashboard."
    manager.session_protection = "strong"
    manager.user_loader(_load_user)


def _staff(row: StaffUser) -> Staff:
    """A login as Flask-Login sees it."""
    return Staff(row.id, row.email, _password_key(row.password_hash))


def _password_key(password_hash: str) -> str:
    """A keyed digest of the password hash, for the session cookie (readable, not secret).

    Setting a password makes a new hash (a new salt, even for the same password), so the
    sessions that logged in with the old one no longer match and end.
    """
    secret = current_runtime().settings.secret_key.encode()
    return hmac.new(secret, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _load_user(session_id: str) -> Staff | None:
    """The active staff user behind a session, still on the same password; else None."""
    user_id, _, password_key = session_id.partition(":")
    if not user_id.isdigit() or not password_key:
        return None
    with current_runtime().db.transaction() as db_session:
        row = db_session.get(StaffUser, int(user_id))
        user = _staff(row) if row is not None and row.active else None
    if user is None or not hmac.compare_digest(user.password_key.encode(), password_key.encode()):
        return None  # Flask-Login then treats the session as logged out
    return user


def staff() -> Staff:
    """The logged-in co-ordinator (views are guarded before this is called)."""
    user: Staff = current_user._get_current_object()
    return user


@bp.before_request
def _require_login() -> Response | None:
    """Every page but the login needs a live, recently active session."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
    runtime = current_runtime()
    now = runtime.conversations.clock().timestamp()
    idle_seconds = runtime.settings.dashboard_idle_minutes * 60
    last_seen = session.get("seen", now)
    if now - float(last_seen) > idle_seconds:
        logout_user()
        session.clear()
        flash("You were logged out after a while without activity. Please log in again.")
        return redirect(url_for("dashboard.login"))
    session["seen"] = now
    session.permanent = True
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; a wrong email or password gets the same plain message."""
    form = LoginForm()
    if form.validate_on_submit():
        runtime = current_runtime()
        now = runtime.conversations.clock()
        with runtime.db.transaction() as db_session:
            row = authenticate(db_session, form.email.data, form.password.data, now)
            user = _staff(row) if row is not None else None
            if user is not None:
                audit(db_session, user.actor, "login", None, now)
        if user is not None:
            session.clear()
            login_user(user)
            session["seen"] = now.timestamp()
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        flash(WRONG)
        return render_template("dashboard/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("dashboard/login.html", form=form), status


def _safe_next(target: str | None) -> str:
    """Only same-site dashboard paths are followed after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/coordinator/"):
            return target
    return url_for("dashboard.queue")


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    logout_user()
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("dashboard.login"))
