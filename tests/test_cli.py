"""The command line: chat, token, report, db upgrade; run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from case_store.db import Database
from case_store.models import Referral
from tests.helpers import HAPPY_PATH, raw_dump
from webhooks.cli import main


def cli(environ: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run the command line in-process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), env=environ, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


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
