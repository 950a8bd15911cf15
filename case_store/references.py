"""Referral references: RJ- and six characters of 0-9 A-Z, unique."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import Referral

ALPHABET = string.digits + string.ascii_uppercase
REFERENCE = re.compile(r"^RJ-[0-9A-Z]{6}$")


def random_reference() -> str:
    """A fresh random reference (not yet checked for uniqueness)."""
    return "RJ-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def unique_reference(session: Session, make: Callable[[], str] = random_reference) -> str:
    """A reference no stored referral has."""
    for _ in range(20):
        candidate = make()
        if session.scalar(select(Referral.id).where(Referral.reference == candidate)) is None:
            return candidate
    raise RuntimeError("could not find a free reference after 20 tries")
