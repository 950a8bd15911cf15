"""Hypothesis properties: the engine, the parsers and the webhooks under any input.

What tests/test_answers.py and tests/test_safeguarding.py already fuzz (parsers and the
detector never raise) is not repeated; these check what the answers mean.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from hypothesis import HealthCheck, assume, example, given, reject, settings
from hypothesis import strategies as st

from bot.answers import parse_crime_ref, parse_month, parse_phone
from bot.engine import DELETE_CONFIRM, Context, Result, step
from bot.flow import bundled_flow
from bot.labels import load_labels
from bot.profile import bundled_profile
from bot.render import Renderer
from bot.safeguarding import default_detector
from case_store.conferences import CODE_ALPHABET
from sms_gateway.volunteer_replies import CODE, parse_volunteer_reply
from tests.telegram_helpers import SECRET, telegram_env
from tests.twilio_helpers import post_signed, twilio_env

FLOW, LABELS = bundled_flow(), load_labels("en")
PROFILE, DETECTOR = bundled_profile(), default_detector()
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
CASES = yaml.safe_load((Path(__file__).parent / "data" / "safeguarding_cases.yaml").read_text())
STATUSES = {"new", "active", "finished", "ended", "deleted"}
STOP_WORDS = sorted(word for word, action in FLOW.keywords.items() if action == "stop")
FAST = settings(max_examples=40, deadline=None)

# What people send: answers that move the flow, keywords, and anything at all.
ANSWERS = st.sampled_from(
    [
        "1",
        "2",
        "3",
        "4",
        "yes",
        "no",
        "y",
        "nope",
        "skip",
        "Sam Quayle",
        "CF0123450224",
        "03/2025",
        "march 2024",
        "07700 900123",
        "sam@example.org",
        "1 3",
        "other",
        "9",
        "ok",
    ]
)
KEYWORDS = st.sampled_from(["BACK", "HELP", "RESTART", "DELETE", "START", "back", "/help"])
INPUTS = st.one_of(ANSWERS, ANSWERS, ANSWERS, KEYWORDS, st.text(max_size=40))
SEQUENCES = st.lists(INPUTS, max_size=25)


def context(channel: str = "sms") -> Context:
    """The engine's world: frozen clock, bundled words, counted references."""
    references = (f"RJ-{n:06d}" for n in itertools.count(1))
    return Context(NOW, channel, PROFILE, LABELS, DETECTOR, lambda: next(references))


def run(texts: list[str], channel: str = "sms") -> tuple[dict[str, Any] | None, Result | None]:
    """Step through `texts`; the saved state and the last result."""
    ctx, state, result = context(channel), None, None
    for text in texts:
        result = step(FLOW, state, text, ctx)
        state = result.state
    return state, result


def assert_valid(state: dict[str, Any], result: Result, channel: str) -> None:
    """A state the engine can resume from, and replies every channel can render."""
    assert state["step"] is None or state["step"] in FLOW.steps
    assert state["resume_step"] is None or state["resume_step"] in FLOW.steps
    assert state["returning_to"] in (None, FLOW.summary)
    assert state["pending"] in (None, DELETE_CONFIRM)
    assert state["status"] in STATUSES
    assert all(s in FLOW.steps for s in state["history"])
    Renderer(channel, PROFILE).render_all(result.replies)


@FAST
@given(SEQUENCES, st.sampled_from(["sms", "telegram"]))
def test_any_inputs_keep_a_valid_state(texts: list[str], channel: str) -> None:
    ctx, state = context(channel), None
    for text in texts:
        result = step(FLOW, state, text, ctx)
        state = result.state
        assert_valid(state, result, channel)


@FAST
@given(
    SEQUENCES,
    st.sampled_from(STOP_WORDS),
    st.sampled_from(["{}", " {} ", "{}.", "/{}"]),
    st.lists(st.one_of(ANSWERS, st.text(max_size=20)), max_size=5),
)
def test_stop_always_stops(texts: list[str], word: str, form: str, after: list[str]) -> None:
    state, _ = run(texts)
    stop = step(FLOW, state, form.format(word.lower()), context())
    assert stop.state["opted_out"] is True
    state = stop.state
    for text in after:  # nothing is said again until START (HELP and danger aside)
        assume(FLOW.keywords.get(text.strip().upper()) not in {"start", "help"})
        later = step(FLOW, state, text, context())
        assert later.state["opted_out"] is True
        assert later.replies == []
        state = later.state


@FAST
@given(SEQUENCES, st.sampled_from(["danger", "self_harm"]), st.data())
@example(["hi", "DELETE"], "danger", None)  # danger while asked to confirm an erasure
def test_danger_always_gets_the_guidance(texts: list[str], kind: str, data: Any) -> None:
    text = data.draw(st.sampled_from(CASES[kind])) if data else CASES[kind][0]
    state, _ = run(texts)
    result = step(FLOW, state, text, context())
    assert any(e.kind == "urgent" and e.data["kind"] == kind for e in result.effects)
    assert result.state["urgent"] is True
    if not (state or {}).get("opted_out"):
        assert result.replies[0].key == f"guidance_{kind}"
        assert result.state["step"] == "safety_check"


# -- parsers --------------------------------------------------------------------------------
MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
FULL_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


@FAST
@given(st.integers(1950, 2026), st.integers(1, 12), st.integers(0, 4), st.booleans())
def test_a_past_month_in_any_form_reads_back(year: int, month: int, form: int, upper: bool) -> None:
    assume((year, month) <= (NOW.year, NOW.month))
    text = [
        f"{month}/{year}",
        f"{month:02d}-{year}",
        f"{year}-{month:02d}",
        f"{MONTH_NAMES[month - 1]} {year}",
        f"{FULL_NAMES[month - 1]}, {year}",
    ][form]
    assert parse_month(text.upper() if upper else text, NOW) == f"{year:04d}-{month:02d}"


@FAST
@given(st.integers(2026, 2100), st.integers(1, 12))
def test_a_future_month_is_refused(year: int, month: int) -> None:
    assume((year, month) > (NOW.year, NOW.month))
    assert parse_month(f"{month:02d}/{year}", NOW) is None


@FAST
@given(
    st.integers(0, 999),
    st.sampled_from(
        [
            "07700 900{n}",
            "07700900{n}",
            "+44 7700 900{n}",
            "+447700900{n}",
            "(07700) 900 {n}",
            "0044 7700 900{n}",
            " 07700-900-{n} ",
        ]
    ),
)
def test_drama_range_numbers_in_any_layout_give_e164(n: int, layout: str) -> None:
    assert parse_phone(layout.format(n=f"{n:03d}")) == f"+447700900{n:03d}"


@FAST
@given(st.text("0123456789 +()-", min_size=6, max_size=20))
@example("+200000000000")  # formatted, it lost a zero each time (phonenumbers' leading zeros)
def test_a_parsed_phone_number_parses_to_itself(text: str) -> None:
    parsed = parse_phone(text)
    if parsed is None:
        reject()  # as assume(False): not a number, so not a case for this property
    assert parse_phone(parsed) == parsed


CRIME_REF_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefxyz0123456789/-")


@FAST
@given(st.lists(CRIME_REF_CHARS, min_size=3, max_size=29), st.integers(0, 9), st.data())
def test_crime_references_read_back_upper_case_without_spaces(
    chars: list[str], digit: int, data: Any
) -> None:
    ref = "".join(chars) + str(digit)
    spaced = "".join(c + data.draw(st.sampled_from(["", "", " "])) for c in ref)
    assert parse_crime_ref(spaced) == ref.upper()
    assert parse_crime_ref(ref.upper()) == ref.upper()  # idempotent


@FAST
@given(st.text())
def test_a_crime_reference_has_a_digit_and_only_its_characters(text: str) -> None:
    parsed = parse_crime_ref(text)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-")
    assert parsed is None or (any(c.isdigit() for c in parsed) and set(parsed) <= allowed)


VOLUNTEER_CODES = st.text(CODE_ALPHABET, min_size=4, max_size=4)
YES, NO = sorted(LABELS.words("volunteer_yes")), sorted(LABELS.words("volunteer_no"))


@FAST
@given(
    VOLUNTEER_CODES,
    st.sampled_from([("yes", w) for w in YES] + [("no", w) for w in NO]),
    st.sampled_from(["{w} {c}", "{c} {w}", "{W} {c}!", "{c}, {w}.", "  {w}   {c} "]),
)
@example("K7P2", ("no", "can't make it"), "{w} {c}")  # MAKE looks like a code
def test_a_volunteer_answer_with_a_code_reads_back(
    code: str, answer: tuple[str, str], layout: str
) -> None:
    meaning, words = answer
    assume(code.lower() not in set(YES) | set(NO))
    text = layout.format(w=words, W=words.upper(), c=code.lower())
    reply = parse_volunteer_reply(text, LABELS)
    assert (reply.answer, reply.code) == (meaning, code)


@FAST
@given(st.text(max_size=60))
def test_volunteer_replies_are_yes_no_or_unclear(text: str) -> None:
    reply = parse_volunteer_reply(text, LABELS)
    assert reply.answer in {"yes", "no", None}
    assert reply.code is None or CODE.match(reply.code)


# -- webhooks ---------------------------------------------------------------------------------
TWILIO_FIELDS = [
    "MessageSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "SmsStatus",
    "MessageStatus",
    "ErrorCode",
    "MessagingServiceSid",
    "MediaUrl0",
]
ODD_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "SM" + "0" * 32,
            "+447700900123",
            "07700 900123",
            "x" * 200,
            "STOP",
            "he's outside now with a knife",
            "\u202e",
            "1",
            "delivered",
            "21610",
            "9" * 40,
        ]
    ),
)
SMS_FORMS = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(min_size=1, max_size=12)),
    ODD_TEXT,
    max_size=8,
)
WEB = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def channels_app(make_app: Callable[..., Flask]) -> Flask:
    """SMS and Telegram on (the Bot API is never reached: replies wait in the outbox)."""
    return make_app(**twilio_env(), **telegram_env("http://127.0.0.1:9"))


@WEB
@given(form=SMS_FORMS, path=st.sampled_from(["/webhooks/twilio/sms", "/webhooks/twilio/status"]))
def test_signed_sms_bodies_never_give_a_500(
    channels_app: Flask, form: dict[str, str], path: str
) -> None:
    response = post_signed(channels_app.test_client(), path, form)
    assert response.status_code in {200, 204, 400}, response.data


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
ANY_JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
IDS = st.one_of(st.integers(-(10**80), 10**80), st.integers(1, 10**6), JSON_LEAVES)
CHATS = st.fixed_dictionaries(
    {"id": IDS, "type": st.one_of(st.sampled_from(["private", "group", "channel"]), JSON_LEAVES)},
    optional={"first_name": JSON_LEAVES},
)
MESSAGES = st.fixed_dictionaries(
    {"message_id": IDS, "date": IDS, "chat": st.one_of(CHATS, ANY_JSON)},
    optional={"text": ODD_TEXT, "from": ANY_JSON, "sticker": ANY_JSON, "entities": ANY_JSON},
)
UPDATES = st.one_of(
    ANY_JSON,
    st.fixed_dictionaries(
        {"update_id": IDS},
        optional={
            "message": st.one_of(MESSAGES, ANY_JSON),
            "edited_message": MESSAGES,
            "callback_query": st.fixed_dictionaries(
                {"id": IDS, "from": ANY_JSON, "chat_instance": JSON_LEAVES},
                optional={"data": ODD_TEXT, "message": st.one_of(MESSAGES, ANY_JSON)},
            ),
        },
    ),
)


@WEB
@given(body=UPDATES)
def test_telegram_bodies_never_give_a_500(channels_app: Flask, body: Any) -> None:
    response = channels_app.test_client().post(
        "/webhooks/telegram", json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code in {200, 400}, response.data
