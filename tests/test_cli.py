"""The command line: chat, token, user, report, db upgrade; run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from case_store.db import Database
from case_store.models import AuditEntry, Referral, StaffUser
from tests.dashboard_helpers import log_in
from tests.helpers import HAPPY_PATH, raw_dump
from webhooks.cli import main

EMAIL = "coordinator@example.org"
PASSWORD = "a long passphrase for tests"
NEW_PASSWORD = "another long passphrase"
CREATED = ("cli", "login created", "staff #1")  # the audit entry of the first `user create`


def cli(environ: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the command line in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), input=stdin, env=environ, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def create_login(environ: dict[str, str], email: str = EMAIL) -> None:
    """`user create` with the password on standard input."""
    code, out, _ = cli(environ, "user", "create", email, "--password-stdin", stdin=PASSWORD + "\n")
    assert (code, out) == (0, f"created a dashboard login for {email}\n")


def logins(environ: dict[str, str]) -> list[tuple[str, bool, str]]:
    """Every staff login as stored: (email, active, password hash)."""
    db = Database(environ["RJ_DATABASE_URL"])
    with db.transaction() as session:
        rows = session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
        found = [(row.email, row.active, row.password_hash) for row in rows]
    db.dispose()
    return found


def audited(environ: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """The audit trail's staff actions: (actor, action, detail)."""
    db = Database(environ["RJ_DATABASE_URL"])
    with db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        found = [(row.actor, row.action, row.detail) for row in rows]
    db.dispose()
    return found


def test_chat_takes_a_person_through_a_whole_self_referral(environ: dict[str, str]) -> None:
    env = {**os.environ, **environ}
    # The terminal is not a phone, so the flow asks which number to use (step 18).
    answers = [*HAPPY_PATH[1:17], "07700 900123", *HAPPY_PATH[18:]]
    typed = "\n".join(answers) + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "webhooks", "chat", "--channel", "sms"],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert "First, are you safe right now?\n1 Yes\n2 No" in done.stdout
    assert "Your reference is RJ-" in done.stdout
    db = Database(environ["RJ_DATABASE_URL"])
    with db.transaction() as session:
        assert session.scalars(select(Referral.source)).one() == "self"
    assert "Sam Quayle" not in raw_dump(db)
    db.dispose()


def test_chat_as_telegram_shows_buttons(environ: dict[str, str]) -> None:
    env = {**os.environ, **environ}
    done = subprocess.run(
        [sys.executable, "-m", "webhooks", "chat", "--channel", "telegram"],
        input="yes\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert "[1: Yes]" in done.stdout and "[2: No]" in done.stdout


def test_token_create_prints_the_token_alone_on_the_last_line(environ: dict[str, str]) -> None:
    code, out, err = cli(
        environ,
        "token",
        "create",
        "Victims Hub",
        "--scope",
        "referrals:write",
        "--scope",
        "referrals:read",
    )
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("rjt_")
    assert "cannot be shown again" in err
    code, listing, _ = cli(environ, "token", "list")
    assert "Victims Hub" in listing and out.strip() not in listing
    assert cli(environ, "token", "revoke", "1")[0] == 0
    assert "revoked" in cli(environ, "token", "list")[1]
    assert cli(environ, "token", "revoke", "1")[0] != 0


def test_token_create_refuses_unknown_scopes(environ: dict[str, str]) -> None:
    code, _, err = cli(environ, "token", "create", "x", "--scope", "everything")
    assert code == 2 and "unknown scopes: everything" in err


def test_report_formats(environ: dict[str, str], tmp_path: Path) -> None:
    code, text, _ = cli(environ, "report", "--from", "2026-01-01", "--to", "2026-12-31")
    assert code == 0
    assert text.startswith(
        "Between 2026-01-01 and 2026-12-31, Cambridgeshire Restorative Justice"
        " Hub received 0 referrals: 0 from the Victims' Hub"
    )
    figures = json.loads(cli(environ, "report", "--format", "json")[1])
    assert figures["by_source"] == {"victims_hub": 0, "police": 0, "partner_agency": 0, "self": 0}
    csv_text = cli(environ, "report", "--format", "csv")[1]
    assert csv_text.splitlines()[0] == "section,item,value"
    assert "by_source,self,0" in csv_text


def test_db_upgrade(environ: dict[str, str]) -> None:
    code, out, _ = cli(environ, "db", "upgrade")
    assert code == 0 and "up to date" in out


# -- dashboard logins --------------------------------------------------------------------------
def test_user_create_is_audited_by_the_new_logins_id(environ: dict[str, str]) -> None:
    create_login(environ)
    create_login(environ, "alex@example.org")
    assert audited(environ) == [CREATED, ("cli", "login created", "staff #2")]


def test_a_refused_user_create_creates_and_audits_nothing(environ: dict[str, str]) -> None:
    create_login(environ)
    before = logins(environ)
    again = cli(environ, "user", "create", EMAIL, "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert again[0] == 1 and f"There is already a login for {EMAIL}." in again[2]
    short = cli(environ, "user", "create", "alex@example.org", "--password-stdin", stdin="short\n")
    assert short[0] == 1 and "at least 12 characters" in short[2]
    assert logins(environ) == before
    assert audited(environ) == [CREATED]


def test_user_disable_refuses_the_login_and_its_live_session(
    environ: dict[str, str], make_app: Callable[..., Flask]
) -> None:
    create_login(environ)
    client = make_app().test_client()
    assert log_in(client).status_code == 302
    assert client.get("/coordinator/").status_code == 200
    code, out, _ = cli(environ, "user", "disable", "Coordinator@Example.org ")
    assert (code, out) == (0, f"disabled the dashboard login for {EMAIL}\n")
    assert client.get("/coordinator/").headers["Location"].startswith("/coordinator/login")
    refused = log_in(client)
    assert refused.status_code == 401 and "do not match a login" in refused.text
    assert audited(environ)[-1] == ("cli", "login disabled", "staff #1")


def test_user_enable_lets_a_disabled_login_in_again(
    environ: dict[str, str], make_app: Callable[..., Flask]
) -> None:
    create_login(environ)
    assert cli(environ, "user", "disable", EMAIL)[0] == 0
    code, out, _ = cli(environ, "user", "enable", EMAIL)
    assert (code, out) == (0, f"enabled the dashboard login for {EMAIL}\n")
    assert log_in(make_app().test_client()).status_code == 302
    assert [action for _, action, _ in audited(environ)] == [
        "login created",
        "login disabled",
        "login enabled",
        "login",
    ]


def test_user_password_from_stdin_replaces_the_password_and_ends_sessions(
    environ: dict[str, str], make_app: Callable[..., Flask]
) -> None:
    create_login(environ)
    app = make_app()
    old_session = app.test_client()
    assert log_in(old_session).status_code == 302
    code, out, _ = cli(
        environ, "user", "password", EMAIL, "--password-stdin", stdin=NEW_PASSWORD + "\n"
    )
    assert (code, out) == (0, f"set a new password for {EMAIL}; their sessions have ended\n")
    assert old_session.get("/coordinator/").status_code == 302
    assert log_in(app.test_client()).status_code == 401
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 302
    assert ("cli", "password reset", "staff #1") in audited(environ)


def test_user_password_asks_twice_at_a_prompt(environ: dict[str, str]) -> None:
    create_login(environ)
    before = logins(environ)
    typed = f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    code, out, _ = cli(environ, "user", "password", EMAIL, stdin=typed)
    assert code == 0 and out.startswith("Password: \nRepeat for confirmation: \n")
    assert logins(environ)[0][2] != before[0][2]


def test_user_password_keeps_the_rules_of_create(environ: dict[str, str]) -> None:
    create_login(environ)
    before = logins(environ)
    code, _, err = cli(environ, "user", "password", EMAIL, "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12 characters" in err
    assert logins(environ) == before
    assert audited(environ) == [CREATED]


def test_unknown_emails_are_refused_and_nothing_changes(environ: dict[str, str]) -> None:
    create_login(environ)
    before = logins(environ)
    for command in (["disable"], ["enable"], ["password", "--password-stdin"]):
        code, out, err = cli(
            environ, "user", command[0], "nobody@example.org", *command[1:], stdin=NEW_PASSWORD
        )
        assert (code, out) == (1, "")
        assert "There is no login for nobody@example.org." in err
    assert logins(environ) == before
    assert audited(environ) == [CREATED]


def test_user_list_shows_state_and_last_login_but_no_hashes(
    environ: dict[str, str], make_app: Callable[..., Flask]
) -> None:
    code, _, err = cli(environ, "user", "list")
    assert code == 0 and "no dashboard logins yet" in err
    create_login(environ)
    create_login(environ, "alex@example.org")
    assert log_in(make_app().test_client()).status_code == 302
    assert cli(environ, "user", "disable", "alex@example.org")[0] == 0
    code, out, _ = cli(environ, "user", "list")
    assert code == 0
    assert out.splitlines() == [
        "alex@example.org\tdisabled\tnever",
        f"{EMAIL}\tactive\tlast login 2026-11-23 10:30 UTC",
    ]
    assert "argon2" not in out
