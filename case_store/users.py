"""Co-ordinator logins: argon2 password hashes, checked in constant time."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import EMAIL_LENGTH, StaffUser

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class UserError(ValueError):
    """A login could not be created or changed: the message says why."""


def normalise_email(email: str) -> str:
    """Emails compare without case or surrounding space."""
    return email.strip().lower()


def create_user(session: Session, email: str, password: str, now: datetime) -> StaffUser:
    """A new login; refuses a duplicate email or a short password."""
    address = normalise_email(email)
    if "@" not in address or len(address) > EMAIL_LENGTH:
        raise UserError("Give an email address.")
    _check_password(password)
    if find_user(session, address) is not None:
        raise UserError(f"There is already a login for {address}.")
    user = StaffUser(
        email=address, password_hash=_hasher.hash(password), active=True, created_at=now
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> StaffUser | None:
    """The login with this email, if any."""
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def _check_password(password: str) -> None:
    """The rule every new password meets."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")


def require_user(session: Session, email: str) -> StaffUser:
    """The login with this email; a UserError naming the address if there is none."""
    user = find_user(session, email)
    if user is None:
        raise UserError(f"There is no login for {normalise_email(email)}.")
    return user


def list_users(session: Session) -> list[StaffUser]:
    """Every login, by email."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


def set_active(session: Session, email: str, active: bool) -> StaffUser:
    """Enable or disable a login; a disabled one cannot log in or keep a session."""
    user = require_user(session, email)
    user.active = active
    return user


def set_password(session: Session, email: str, password: str) -> StaffUser:
    """A new password for a login (a fresh hash, which ends the sessions it holds)."""
    _check_password(password)
    user = require_user(session, email)
    user.password_hash = _hasher.hash(password)
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> StaffUser | None:
    """The active user whose password this is; None otherwise (same cost either way)."""
    user = find_user(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user
