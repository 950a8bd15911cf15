"""The dashboard and /try/ in Debian's Chromium, driven by Playwright, against `serve`.

The service runs as deployed (`rj-frontdoor serve`, its embedded worker, SMS through a
stub Twilio API on 127.0.0.1). Each main page is checked with axe-core (no serious or
critical violations) and saved as a screenshot under $RJ_TEST_ARTIFACTS (default
tests/artifacts/). Chromium comes from Debian (`apt-get install -y chromium`): never a
downloaded browser.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from twilio.request_validator import RequestValidator

from tests.helpers import HAPPY_PATH
from tests.stubs.twilio_api import TwilioStub
from tests.test_serve_process import free_port
from tests.test_try import WEB_PATH
from tests.twilio_helpers import ACCOUNT_SID, AUTH_TOKEN, twilio_env

CHROMIUM = Path(os.environ.get("RJ_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("RJ_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
EMAIL, PASSWORD = "coordinator@example.org", "a long passphrase for the browser"
EXIT_URL = "https://www.bbc.co.uk/weather"
VICTIM, VOLUNTEERS = "+447700900555", ("+447700900201", "+447700900202")
LONDON = ZoneInfo("Europe/London")

if not CHROMIUM.exists():  # fail loudly, never skip: CI installs it (.ci/run)
    raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")


class Service:
    """`rj-frontdoor serve` in its own process, with its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.port = env, int(env["RJ_PUBLIC_BASE_URL"].rsplit(":", 1)[1])
        self.base = env["RJ_PUBLIC_BASE_URL"]
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhooks", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"serve did not start; see {log}")

    def command(self, *args: str, stdin: str = "") -> str:
        """Run an `rj-frontdoor` command against the same database."""
        done = subprocess.run(
            [sys.executable, "-m", "webhooks", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def sms(self, sender: str, text: str, sid: str) -> None:
        """A signed inbound SMS, as Twilio sends it."""
        params = {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": "+447700900000",
            "Body": text,
        }
        url = f"{self.base}/webhooks/twilio/sms"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        response = httpx.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text

    def stop(self) -> None:
        """Stop the process and close its log."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    """A stub Twilio REST API on 127.0.0.1."""
    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        yield stub


@pytest.fixture
def service(environ: dict[str, str], twilio: TwilioStub, tmp_path: Path) -> Iterator[Service]:
    """The service as deployed, with one co-ordinator login made by the CLI."""
    env = {
        **os.environ,
        **environ,
        **twilio_env(twilio.base_url),
        "RJ_PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }
    running = Service(env, tmp_path / "serve.log")
    try:
        running.command("user", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        yield running
    finally:
        running.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (its own cookies); no console errors allowed (CSP breaches show
    there), except the 401 a wrong password is answered with."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert [e for e in errors if "401" not in e] == []


def check_page(page: Page, name: str) -> None:
    """axe-core finds nothing serious or critical; save a full-page screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], f"{name}: {serious}"


def log_in(page: Page, base: str) -> None:
    """Log in through the form."""
    page.goto(f"{base}/coordinator/")
    expect(page).to_have_url(re.compile(r".*/coordinator/login\?next=.*"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Referrals")).to_be_visible()


def add_volunteer(page: Page, base: str, name: str, phone: str) -> None:
    """Add an active volunteer on the volunteers page."""
    page.goto(f"{base}/coordinator/volunteers")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_role("button", name="Add volunteer").click()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def remove_volunteer(page: Page, base: str, name: str) -> None:
    """Remove a volunteer from the volunteers page, through its confirmation page."""
    page.goto(f"{base}/coordinator/volunteers")
    page.get_by_role("link", name=f"Remove {name}").click()
    expect(page.get_by_role("heading", name=f"Remove {name}?")).to_be_visible()
    check_page(page, "volunteer-remove")
    page.get_by_role("button", name="Remove volunteer").click()
    expect(page.get_by_role("status")).to_contain_text("Volunteer removed")
    expect(page.get_by_role("cell", name=name, exact=True)).to_have_count(0)


def test_the_login_page_refuses_a_wrong_password_plainly(service: Service, page: Page) -> None:
    page.goto(f"{service.base}/coordinator/login")
    check_page(page, "login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("not the right passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match a login")).to_be_visible()
    expect(page).to_have_url(f"{service.base}/coordinator/login")


def test_a_referral_is_worked_from_new_to_conference_scheduled(
    service: Service, page: Page, twilio: TwilioStub
) -> None:
    base = service.base
    log_in(page, base)
    for name, phone in zip(("Alex Volunteer", "Bea Volunteer"), VOLUNTEERS, strict=True):
        add_volunteer(page, base, name, phone)
    add_volunteer(page, base, "Cleo Leaving", "+447700900203")
    check_page(page, "volunteers")
    remove_volunteer(page, base, "Cleo Leaving")

    page.goto(f"{base}/coordinator/")
    expect(page.get_by_text("No referrals here yet.")).to_be_visible()
    for turn, text in enumerate(HAPPY_PATH):  # a victim self-refers by SMS meanwhile
        service.sms(VICTIM, text, sid=f"SMbrowser{turn:024d}")
    page.reload()
    row = page.get_by_role("row").filter(has_text="self")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("new")
    check_page(page, "queue")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Consent record")).to_be_visible()
    expect(page.get_by_text("Sam Quayle").first).to_be_visible()
    check_page(page, "referral")
    for status in ("contacted", "assessing"):
        page.get_by_label("New status").select_option(status)
        page.get_by_role("button", name="Change status").click()
        expect(page.locator("#current-status")).to_have_text(status)

    page.get_by_text("Schedule a conference").click()
    when = datetime.now(LONDON).replace(hour=10, minute=30) + timedelta(days=14)
    page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Venue").fill("Parkside Community Centre")
    page.get_by_label("Alex Volunteer").check()
    page.get_by_label("Bea Volunteer").check()
    page.get_by_role("button", name="Schedule and invite").click()
    expect(page.locator("#current-status")).to_have_text("conference scheduled")
    invitations = page.locator("[data-invitations]")
    expect(invitations).to_contain_text("invited")

    sent = twilio.wait_for(len(twilio.messages) + 2, timeout=20)  # the worker invites both
    assert {m["To"] for m in sent} >= set(VOLUNTEERS)
    service.sms(VOLUNTEERS[0], "Yes", sid="SMbrowser" + "y" * 24)
    service.sms(VOLUNTEERS[1], "no sorry", sid="SMbrowser" + "n" * 24)
    expect(invitations).to_contain_text("confirmed", timeout=15_000)  # polled, no reload
    expect(invitations).to_contain_text("declined", timeout=15_000)
    check_page(page, "referral-conference")

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Board figures")).to_be_visible()
    expect(page.locator("#reached")).to_have_text("1")  # this referral, in the report
    expect(page.get_by_role("img", name="Referrals per month by source")).to_be_visible()
    check_page(page, "reports")


def test_a_whole_self_referral_on_the_try_page(service: Service, page: Page) -> None:
    page.goto(f"{service.base}/try/")
    sms_view = page.locator("[data-view=sms]")
    expect(sms_view.locator(".them").first).to_be_visible()
    check_page(page, "try")
    box = sms_view.get_by_label("Your text message")
    for text in WEB_PATH[1:]:  # the page says hello itself
        before = sms_view.locator(".them").count()
        box.fill(text)
        box.press("Enter")
        expect(sms_view.locator(".them")).not_to_have_count(before)
    expect(sms_view.locator(".them").last).to_contain_text("RJ-")

    chat = page.locator("[data-view=telegram]")
    first_button = chat.locator(".buttons button").first
    expect(first_button).to_be_visible()
    label = first_button.inner_text()
    first_button.click()
    expect(chat.locator(".me").last).to_have_text(label)
    check_page(page, "try-finished")


def test_quick_exit_leaves_at_once_by_button_and_by_escape(service: Service, page: Page) -> None:
    def neutral(route: Route) -> None:  # no test reaches the internet
        route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>")

    page.route(f"{EXIT_URL}*", neutral)
    for leave in ("button", "escape"):
        page.goto(f"{service.base}/try/")
        expect(page.locator("[data-view=sms] .them").first).to_be_visible()
        if leave == "button":
            page.get_by_role("button", name="Quick exit").click()
        else:
            page.keyboard.press("Escape")
        expect(page).to_have_url(EXIT_URL)
    # location.replace: the back button does not return to the simulator
    page.go_back()
    assert "/try/" not in page.url


def test_pages_fit_a_phone_screen(service: Service, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        phone = context.new_page()
        log_in(phone, service.base)
        for path, name in (("/coordinator/", "queue-phone"), ("/try/", "try-phone")):
            phone.goto(f"{service.base}{path}")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            phone.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
    finally:
        context.close()
